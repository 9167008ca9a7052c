"""Migrations that cannot lie: a store made at any earlier head of main's history (the migration
files of each are committed under `migration_history/`, see its generate.py) upgrades with today's
`xero-sync db upgrade` to exactly the models' schema, on SQLite and PostgreSQL.

Branches once each added a migration straight after 0002 and were re-chained at merge
(0002 -> 0004 -> 0008 -> 0006 -> 0003 -> 0005 -> 0009 -> 0010), so a store stamped "0009" by its
branch lacked what 0004..0005 add while today's chain thinks it has it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from xero_sync.commands.cli import main as cli_main
from xero_sync.store import schema
from xero_sync.store.db import MIGRATIONS_DIR, current_revision, describe_differences, make_engine

HISTORY = Path(__file__).with_name("migration_history")
HEADS = json.loads((HISTORY / "heads.json").read_text())


def build_old_store(url: str, head: dict, tmp_path: Path) -> None:
    """The store as `xero-sync db upgrade` made it at `head["commit"]` (its own migration files)."""
    versions = tmp_path / f"versions_{head['commit']}"
    versions.mkdir()
    for name in head["files"]:
        shutil.copy(HISTORY / "files" / name, versions / name)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))  # today's env.py; old versions
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions))
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    assert current_revision(url) == head["head"]


def schema_differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    schema.metadata)
    finally:
        engine.dispose()


@pytest.mark.parametrize("head", HEADS, ids=[f"{h['commit'][:7]}-{h['head']}" for h in HEADS])
def test_a_store_from_any_earlier_head_upgrades_to_the_models(db_url, tmp_path, head, capsys):
    build_old_store(db_url, head, tmp_path)
    assert cli_main(["db", "upgrade", "--url", db_url]) == 0, capsys.readouterr().err
    assert schema_differences(db_url) == []


def _drop(url: str, *statements: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_db_upgrade_refuses_a_store_that_lacks_what_its_stamp_promises(db_url, capsys):
    """0009's table dropped by hand from a store stamped 0009: upgrading would stamp it head
    while the table stays missing. Refused in one line, and nothing was changed (not even 0010)."""
    assert cli_main(["db", "upgrade", "--url", db_url, "--revision", "0009"]) == 0
    _drop(db_url, "DROP TABLE partner_months")
    capsys.readouterr()
    assert cli_main(["db", "upgrade", "--url", db_url]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "stamped at revision 0009" in err and "missing table partner_months" in err
    assert "Nothing was changed" in err and "Traceback" not in err
    assert current_revision(db_url) == "0009"
    assert "shard_moves" not in _tables(db_url)  # 0010 was rolled back with the rest


def test_a_half_present_rechained_migration_is_refused_not_reapplied(db_url, capsys):
    """xero_api_calls dropped by hand (0008's other columns still there): not a re-chaining
    artifact, so it is not re-applied over the rest but refused."""
    assert cli_main(["db", "upgrade", "--url", db_url]) == 0
    _drop(db_url, "DROP TABLE xero_api_calls")
    capsys.readouterr()
    assert cli_main(["db", "upgrade", "--url", db_url]) == 2
    err = capsys.readouterr().err
    assert "missing table xero_api_calls" in err and "Traceback" not in err
    assert "xero_api_calls" not in _tables(db_url)


def test_a_store_that_already_reached_0010_lying_is_repaired(db_url, tmp_path, capsys):
    """Seen: a store made on the 0009 branch (on 0002) upgraded by the code of 0010 reached "0010"
    with 13 schema differences (no xero_api_calls, no invoices.xero_total_minor, ...)."""
    by_commit = {h["commit"][:7]: h for h in HEADS}
    build_old_store(db_url, by_commit["dff8f74"], tmp_path)  # the 0009 branch
    build_old_store(db_url, by_commit["09c7a89"], tmp_path)  # upgraded by the code of 0010
    lies = describe_differences(schema_differences(db_url), limit=100).split("; ")
    assert {"missing table xero_api_calls", "missing column invoices.xero_total_minor",
            "missing table tenant_locks", "missing column outbox.request_key"} <= set(lies), lies
    assert cli_main(["db", "upgrade", "--url", db_url]) == 0, capsys.readouterr().err
    assert schema_differences(db_url) == []


def test_concurrent_upgrades_of_a_lying_store(db_url, tmp_path):
    """Several processes starting at once (code servers, the web app) all upgrade it: the repair
    and the upgrade happen once, every caller reaches head, and the schema is the models'."""
    import concurrent.futures

    from xero_sync.store.db import upgrade

    by_commit = {h["commit"][:7]: h for h in HEADS}
    build_old_store(db_url, by_commit["dff8f74"], tmp_path)
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        reached = list(pool.map(lambda _: upgrade(db_url), range(6)))
    assert len(set(reached)) == 1 and reached[0] is not None
    assert schema_differences(db_url) == []
