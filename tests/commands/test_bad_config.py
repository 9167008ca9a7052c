"""Every main command with a bad database URL, a missing folder or a wrong key: one clear line on
stderr, exit 2, no traceback, and nothing created (no store, no folder, no home)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from xero_sync.commands.cli import main
from xero_sync.store import connections
from xero_sync.store.db import make_engine, upgrade
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.store.token_store import SqlTokenStore
from xero_sync.core.tokens import TokenSet

COMMANDS = {
    "db upgrade": ["db", "upgrade"],
    "connect": ["connect", "--sandbox", "--partner", "acme"],
    "accounts": ["accounts", "--partner", "acme", "--list"],
    "diff": ["diff", "--partner", "acme"],
    "web": ["web", "--port", "0"],
    "keys rotate": ["keys", "rotate"],
}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("XERO_SYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XERO_SYNC_XERO", "sandbox")
    monkeypatch.setenv("XERO_SYNC_SANDBOX_URL", "http://127.0.0.1:9")  # never reached
    monkeypatch.setenv("XERO_SYNC_ENCRYPTION_KEY", TokenCipher.generate_key())
    for name in ("XERO_SYNC_PUBLIC_URL", "XERO_SYNC_WEB_SECRET", "XERO_WEBHOOK_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def one_line(capsys, command: str) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"xero-sync {command.split()[0]}: "), lines[0]
    assert "Traceback" not in captured.err
    return lines[0]


BAD_URLS = {
    "unsupported": ("mysql://user@host/db", "unsupported database"),
    "not a URL": ("sqlite//nope", "is not a SQLAlchemy URL"),
    "unreachable": ("postgresql+psycopg://postgres@127.0.0.1:1/nope", "Connection refused"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", BAD_URLS)
def test_bad_database_url(env, tmp_path, capsys, command, case):
    url, expected = BAD_URLS[case]
    env.setenv("XERO_SYNC_DATABASE_URL", url)
    assert main(COMMANDS[command]) == 2
    assert expected in one_line(capsys, command)
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_folder(env, tmp_path, capsys, command):
    missing = tmp_path / "no" / "such" / "folder"
    env.setenv("XERO_SYNC_DATABASE_URL", f"sqlite:///{missing / 'platform.db'}")
    assert main(COMMANDS[command]) == 2
    line = one_line(capsys, command)
    assert str(missing) in line
    assert not (tmp_path / "no").exists() and not (tmp_path / "home").exists()


# `db upgrade`, `connect` and `web` create or migrate the store by design; the others only read.
READERS = [c for c in COMMANDS if c not in {"db upgrade", "connect", "web"}]


@pytest.mark.parametrize("command", READERS)
def test_existing_folder_without_a_store_is_not_created_by_readers(env, tmp_path, capsys, command):
    env.setenv("XERO_SYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'platform.db'}")
    assert main(COMMANDS[command]) == 2
    assert "xero-sync db upgrade" in one_line(capsys, command)
    assert not (tmp_path / "platform.db").exists()


@pytest.mark.parametrize("command", ["connect", "web", "keys rotate", "accounts"])
def test_malformed_key(env, tmp_path, capsys, command):
    env.setenv("XERO_SYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'platform.db'}")
    if command in {"keys rotate", "accounts"}:
        upgrade(f"sqlite:///{tmp_path / 'platform.db'}")
    before = sorted(p.name for p in tmp_path.iterdir())
    env.setenv("XERO_SYNC_ENCRYPTION_KEY", "not-a-fernet-key")
    assert main(COMMANDS[command]) == 2
    assert "is not a valid Fernet key" in one_line(capsys, command)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_accounts_with_the_wrong_key(env, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    upgrade(url)
    engine = make_engine(url)
    stored_with = TokenCipher(TokenCipher.generate_key())
    token_set_id = SqlTokenStore(engine, stored_with).save_new(
        TokenSet("A", "R", dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc), "openid"))
    with engine.begin() as conn:
        connections.ensure_partner(conn, "acme", "Acme")
        connections.start_connection(conn, "acme", tenant_id="t-1", tenant_name="Org",
                                     xero_connection_id="c-1", token_set_id=token_set_id)
        before = conn.execute(sa.text("SELECT access_token_enc FROM xero_token_sets")).scalar_one()
    env.setenv("XERO_SYNC_DATABASE_URL", url)
    assert main(COMMANDS["accounts"]) == 2  # another (valid) key than the tokens were stored with
    assert "cannot be decrypted" in one_line(capsys, "accounts")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT access_token_enc FROM xero_token_sets")).scalar_one() == before
    engine.dispose()
