"""Encryption keys: several keys (newest first) read old ciphertexts; `xero-sync keys rotate`
re-encrypts every stored token set with the newest key, or changes nothing with a wrong key."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from xero_sync.commands.cli import main
from xero_sync.config import ConfigError
from xero_sync.store.schema import xero_token_sets
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.store.token_store import SqlTokenStore, reencrypt_all
from xero_sync.core.tokens import TokenSet

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


class _RefreshDuringRotation(TokenCipher):
    """The newest+old cipher of a rotation that, on its first re-encryption (the rotation has
    read every row), lets a refresh store a new pair from another thread: on PostgreSQL the
    refresh commits before the rotation writes; on SQLite the rotation's write transaction
    (BEGIN IMMEDIATE) holds it off until the rotation commits, so the wait gives up."""

    def __init__(self, keys: str, refresh) -> None:
        super().__init__(keys)
        self._refresh = refresh
        self.refreshed = threading.Event()
        self._started = False

    def rotate(self, token: str) -> str:
        if not self._started:
            self._started = True
            threading.Thread(target=lambda: (self._refresh(), self.refreshed.set()), daemon=True).start()
            self.refreshed.wait(timeout=1.0)
        return super().rotate(token)


def test_a_refresh_racing_the_rotation_survives(store_engine):
    """Issue 18: the rotation wrote the retired refresh token back over a refresh's new one."""
    store = SqlTokenStore(store_engine, TokenCipher(OLD))
    ids = [store.save_new(TOKENS) for _ in range(3)]
    rotated_pair = TokenSet("ACCESS-2", "REFRESH-2", dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc), "openid")
    # The refreshing process already has both keys (deployed before the rotation runs).
    refresher_store = SqlTokenStore(store_engine, TokenCipher(f"{NEW},{OLD}"))
    cipher = _RefreshDuringRotation(
        f"{NEW},{OLD}", lambda: refresher_store.refresh(ids[1], lambda stale: rotated_pair, force=True))
    assert reencrypt_all(store_engine, cipher) == 3
    assert cipher.refreshed.wait(timeout=60)
    new_only = SqlTokenStore(store_engine, TokenCipher(NEW))
    assert new_only.load(ids[1]).refresh_token == "REFRESH-2"
    assert [new_only.load(i).refresh_token for i in (ids[0], ids[2])] == ["REFRESH", "REFRESH"]


def test_refreshes_and_rotations_in_threads_keep_the_newest_refresh_token(store_engine):
    store = SqlTokenStore(store_engine, TokenCipher(f"{NEW},{OLD}"))
    ids = [store.save_new(TOKENS) for _ in range(4)]
    latest: dict[int, str] = {}

    def refresh_all(round_: int) -> None:
        for token_set_id in ids:
            fresh = TokenSet(f"A-{round_}", f"R-{token_set_id}-{round_}",
                             dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc), "openid")
            store.refresh(token_set_id, lambda stale, fresh=fresh: fresh, force=True)
            latest[token_set_id] = fresh.refresh_token

    def rotate_repeatedly() -> None:
        for _ in range(5):
            reencrypt_all(store_engine, TokenCipher(f"{NEW},{OLD}"))

    threads = [threading.Thread(target=refresh_all, args=(1,)), threading.Thread(target=rotate_repeatedly)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert {i: store.load(i).refresh_token for i in ids} == latest
