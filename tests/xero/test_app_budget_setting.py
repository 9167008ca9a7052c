"""XERO_SYNC_APP_MINUTE_LIMIT sets the app-wide minute budget every process takes calls from
(read when a run starts); an explicit resource value wins; a bad value is one clear error."""

from __future__ import annotations

import pytest

from xero_sync.config import ConfigError
from xero_sync.store.db import upgrade
from xero_sync.store.rate_windows import DEFAULT_APP_MINUTE_LIMIT
from xero_sync.resources.xero import XeroResource


def _app_limit(resource: XeroResource) -> int:
    windows = resource.rate_windows()
    return next(w.limit for w in windows.windows if w.name == "app_minute")


def test_the_app_budget_follows_the_environment(sqlite_url, tmp_path, monkeypatch):
    upgrade(sqlite_url)
    monkeypatch.setenv("XERO_SYNC_HOME", str(tmp_path))
    monkeypatch.delenv("XERO_SYNC_APP_MINUTE_LIMIT", raising=False)
    assert _app_limit(XeroResource(database_url=sqlite_url)) == DEFAULT_APP_MINUTE_LIMIT
    monkeypatch.setenv("XERO_SYNC_APP_MINUTE_LIMIT", "540")
    assert _app_limit(XeroResource(database_url=sqlite_url)) == 540
    assert _app_limit(XeroResource(database_url=sqlite_url, app_minute_limit=20)) == 20


@pytest.mark.parametrize("value", ["0", "-5", "lots", "9.5"])
def test_a_bad_app_budget_is_refused(sqlite_url, tmp_path, monkeypatch, value):
    monkeypatch.setenv("XERO_SYNC_HOME", str(tmp_path))
    monkeypatch.setenv("XERO_SYNC_APP_MINUTE_LIMIT", value)
    with pytest.raises(ConfigError, match="XERO_SYNC_APP_MINUTE_LIMIT"):
        XeroResource(database_url=sqlite_url).rate_windows()
