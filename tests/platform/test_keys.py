"""Encryption keys: several keys (newest first) read old ciphertexts; `xero-sync keys rotate`
re-encrypts every stored token set with the newest key, or changes nothing with a wrong key."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from xero_sync.commands.cli import main
from xero_sync.config import ConfigError
from xero_sync.platform.schema import xero_token_sets
from xero_sync.platform.token_cipher import TokenCipher
from xero_sync.platform.token_store import SqlTokenStore
from xero_sync.xero.tokens import TokenSet

OLD, NEW = TokenCipher.generate_key(), TokenCipher.generate_key()
TOKENS = TokenSet("ACCESS", "REFRESH", dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc), "openid", id_token="ID")


def test_newest_key_encrypts_and_every_key_decrypts():
    old_cipher = TokenCipher(OLD)
    written_with_old = old_cipher.encrypt("secret")
    both = TokenCipher(f"{NEW}, {OLD}")
    assert both.key_count == 2 and both.decrypt(written_with_old) == "secret"
    assert TokenCipher(NEW).decrypt(both.encrypt("secret")) == "secret"
    with pytest.raises(ConfigError):
        old_cipher.decrypt(both.encrypt("secret"))
    with pytest.raises(ConfigError, match=r"key 2 of 2"):
        TokenCipher(f"{NEW},not-a-key")


def _ciphertexts(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(
            xero_token_sets.c.access_token_enc, xero_token_sets.c.refresh_token_enc,
            xero_token_sets.c.id_token_enc, xero_token_sets.c.version).order_by(xero_token_sets.c.token_set_id))]


def test_keys_rotate_reencrypts_with_the_newest_key(db_url, store_engine, monkeypatch, tmp_path, capsys):
    ids = [SqlTokenStore(store_engine, TokenCipher(OLD)).save_new(TOKENS) for _ in range(2)]
    monkeypatch.setenv("XERO_SYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XERO_SYNC_DATABASE_URL", db_url)
    monkeypatch.setenv("XERO_SYNC_ENCRYPTION_KEY", f"{NEW},{OLD}")
    assert main(["keys", "rotate"]) == 0
    assert "re-encrypted 2 token set(s)" in capsys.readouterr().out
    new_only = SqlTokenStore(store_engine, TokenCipher(NEW))
    assert [new_only.load(i) for i in ids] == [TOKENS, TOKENS]
    assert [row[3] for row in _ciphertexts(store_engine)] == [1, 1]  # tokens unchanged: no version bump


def test_keys_rotate_with_a_wrong_key_changes_nothing(db_url, store_engine, monkeypatch, tmp_path, capsys):
    SqlTokenStore(store_engine, TokenCipher(OLD)).save_new(TOKENS)
    before = _ciphertexts(store_engine)
    monkeypatch.setenv("XERO_SYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XERO_SYNC_DATABASE_URL", db_url)
    monkeypatch.setenv("XERO_SYNC_ENCRYPTION_KEY", NEW)  # the old key was dropped too early
    assert main(["keys", "rotate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("xero-sync keys: stored tokens cannot be decrypted"), err
    assert _ciphertexts(store_engine) == before
    assert not (tmp_path / "home").exists()
