"""Secrets and the SQLite store on disk: created race-free, never empty, private to this user."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import sqlalchemy as sa

from xero_sync.store.db import make_engine, upgrade
from xero_sync.store.token_cipher import KEY_FILE, TokenCipher


def _first_start(home: str, start, results) -> None:
    start.wait()
    try:
        cipher = TokenCipher.from_key_or_file(None, Path(home))
        results.put(("ok", cipher.decrypt(cipher.encrypt("x"))))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def test_two_processes_at_first_start_share_one_complete_key(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for round_no in range(20):  # many rounds: the race window is small
        home = tmp_path / f"home{round_no}"
        start, results = ctx.Event(), ctx.Queue()
        workers = [ctx.Process(target=_first_start, args=(str(home), start, results)) for _ in range(8)]
        [w.start() for w in workers]
        start.set()
        outcomes = [results.get(timeout=60) for _ in workers]
        [w.join(30) for w in workers]
        assert outcomes == [("ok", "x")] * 8, outcomes
        key_file = home / KEY_FILE
        assert len(key_file.read_text().strip()) == 44
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert [p.name for p in home.iterdir()] == [KEY_FILE]  # no temporary files left behind


def test_sqlite_store_and_its_wal_are_private(tmp_path):
    path = tmp_path / "store" / "platform.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:  # a write, so the -wal and -shm files exist
            conn.execute(sa.text("INSERT INTO partners (partner_id, name) VALUES ('acme', 'Acme')"))
            files = sorted(p.name for p in path.parent.iterdir())
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    finally:
        engine.dispose()
    assert {"platform.db", "platform.db-wal", "platform.db-shm"} <= set(files), files
    assert all(mode == 0o600 for mode in modes.values()), modes


def test_an_existing_world_readable_store_is_tightened(tmp_path):
    path = tmp_path / "platform.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    path.chmod(0o644)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
