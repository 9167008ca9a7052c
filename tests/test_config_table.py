"""README.md's configuration table and `xero_sync.config.Settings` name the same variables, so the
table cannot go stale: a setting added to one and not the other fails here."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic_core import PydanticUndefined

from xero_sync.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
# Rows of the table read by Dagster or by the test harness, not by xero-sync's settings.
NOT_SETTINGS = {"DAGSTER_HOME", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_HOST", "DAGSTER_PG_DB",
                "DAGSTER_EVENT_BATCH_SIZE", "XERO_SYNC_TEST_PG_URL", "XERO_SYNC_TEST_WORKERS"}
_NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def table_rows() -> list[tuple[list[str], str, str]]:
    """(variables, default, meaning) of every row of the Configuration section's table."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or cells[0] in {"Variable", ""} or set(cells[0]) <= {"-", ":"}:
            continue
        assert len(cells) == 3, line
        rows.append((_NAME.findall(cells[0]), cells[1], cells[2]))
    return rows


def test_the_table_lists_every_setting_and_nothing_else():
    documented = [name for names, _, _ in table_rows() for name in names]
    assert len(documented) == len(set(documented)), "a variable appears twice in the table"
    read = set(Settings.variables().values())
    assert read - set(documented) == set(), "settings missing from README.md's configuration table"
    assert set(documented) - read - NOT_SETTINGS == set(), "README.md documents variables nothing reads"
    assert NOT_SETTINGS <= set(documented)


def test_every_row_says_its_default_and_meaning():
    for names, default, meaning in table_rows():
        assert names and default and meaning, (names, default, meaning)


def test_a_plain_default_in_the_table_is_the_settings_default():
    by_variable = {str(f.validation_alias): f for f in Settings.model_fields.values()}
    compared = 0
    for names, default, _ in table_rows():
        plain = re.fullmatch(r"`([^`]+)`", default)
        if len(names) != 1 or names[0] not in by_variable or plain is None:
            continue
        field_default = by_variable[names[0]].default
        assert field_default is not PydanticUndefined, names[0]
        if field_default in (None, ""):  # filled from other settings (the store in XERO_SYNC_HOME)
            continue
        assert str(field_default) == plain.group(1), names[0]
        compared += 1
    assert compared >= 8  # the table keeps plain defaults for most settings
