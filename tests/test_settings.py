"""One settings object, read when asked: never when a module is imported; once when the Dagster
definitions load (the shard a code location serves, the sensors' interval)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from xero_sync.config import ConfigError, Settings
from xero_sync.definitions import build_defs

REPO = Path(__file__).resolve().parents[1]

# Every module that builds Dagster objects or reads settings, but not the code location itself
# (importing xero_sync.definitions is loading the definitions).
MODULES = ["xero_sync.sensors.run_failures", "xero_sync.sensors.outbox", "xero_sync.sensors.webhooks",
           "xero_sync.sensors.onboarding", "xero_sync.schedules.reconciliation", "xero_sync.schedules.sync",
           "xero_sync.cohorts.jobs", "xero_sync.store.connections", "xero_sync.web.app", "xero_sync.commands.cli"]
BAD = {"XERO_SYNC_SENSOR_INTERVAL": "soon", "XERO_SYNC_SHARD": "-1", "XERO_SYNC_SHARDS": "many",
       "XERO_SYNC_COHORT_SIZE": "big", "XERO_SYNC_DATABASE_URL": "nowhere"}


def test_no_module_reads_the_settings_when_imported():
    """Seen: XERO_SYNC_SENSOR_INTERVAL was read when sensors/run_failures.py was imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XERO")}
    env.update(BAD, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", "; ".join(f"import {m}" for m in MODULES)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_definitions_read_the_shard_and_the_sensor_interval_when_they_load(monkeypatch):
    monkeypatch.setenv("XERO_SYNC_SHARDS", "2")
    monkeypatch.setenv("XERO_SYNC_SHARD", "1")
    monkeypatch.setenv("XERO_SYNC_SENSOR_INTERVAL", "7")
    repo = build_defs().get_repository_def()
    intervals = {s.name: s.minimum_interval_seconds for s in repo.sensor_defs}
    assert intervals == {"new_connection_sensor": 7, "xero_webhook_sensor": 7, "payment_outbox_sensor": 1,
                         "reconciliation_after_push_sensor": 7, "partner_run_failure_sensor": 7,
                         "partner_run_success_sensor": 7}  # the outbox's own tick is shorter still
    assert dg.AssetKey(["shard_1", "xero_invoices"]) in repo.asset_graph.get_all_asset_keys()

    monkeypatch.delenv("XERO_SYNC_SENSOR_INTERVAL")
    monkeypatch.delenv("XERO_SYNC_SHARD")
    repo = build_defs().get_repository_def()
    intervals = {s.name: s.minimum_interval_seconds for s in repo.sensor_defs}
    assert intervals == {"new_connection_sensor": 30, "xero_webhook_sensor": 15, "payment_outbox_sensor": 1,
                         "reconciliation_after_push_sensor": 60, "partner_run_failure_sensor": 30,
                         "partner_run_success_sensor": 30}
    assert dg.AssetKey("xero_invoices") in repo.asset_graph.get_all_asset_keys()


def test_a_malformed_setting_stops_the_definitions_naming_it(monkeypatch):
    monkeypatch.setenv("XERO_SYNC_SENSOR_INTERVAL", "soon")
    with pytest.raises(ConfigError, match=r"^XERO_SYNC_SENSOR_INTERVAL='soon' is not a whole number$"):
        build_defs()


def test_settings_come_from_the_mapping_given_not_the_process_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("XERO_SYNC_COHORT_SIZE", "3")
    assert Settings.from_env().cohort_size == 3
    given = Settings.from_env({"XERO_SYNC_HOME": str(tmp_path)})
    assert given.cohort_size == 100 and given.home == tmp_path.resolve()
    assert given.database_url == f"sqlite:///{tmp_path.resolve() / 'xero_sync.db'}"


@pytest.mark.parametrize(("env", "message"), [
    ({"XERO_SYNC_WEB_CONNECTION_LIMIT": "5"}, "XERO_SYNC_WEB_CONNECTION_LIMIT=5 must be between 10 and 10000"),
    ({"XERO_SYNC_SESSION_HOURS": "a day"}, "XERO_SYNC_SESSION_HOURS='a day' is not a whole number"),
    ({"XERO_SYNC_SIGNIN_SECRET": "short"}, "XERO_SYNC_SIGNIN_SECRET must be at least 32 characters"),
    ({"XERO_SYNC_SIGNIN_SECRET": "s" * 40, "XERO_SYNC_SIGNIN_JWKS_URL": "https://dash.example/jwks"},
     "set either XERO_SYNC_SIGNIN_SECRET (HS256) or XERO_SYNC_SIGNIN_JWKS_URL (RS256), not both"),
    ({"XERO_SYNC_SIGNIN_JWKS_URL": "http://dash.example/jwks"},
     "XERO_SYNC_SIGNIN_JWKS_URL='http://dash.example/jwks' must be an https URL"),
    ({"XERO_SYNC_XERO": "Live"}, "XERO_SYNC_XERO='live': expected 'sandbox' or 'real'"),
])
def test_every_variable_is_checked_when_the_settings_are_read(env, message):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env)
    assert str(refused.value) == message


def test_secrets_stay_out_of_the_settings_repr():
    settings = Settings.from_env({"XERO_SYNC_ENCRYPTION_KEY": "k" * 44, "XERO_SYNC_SERVICE_TOKEN": "t" * 40,
                                  "XERO_SYNC_SIGNIN_SECRET": "s" * 40, "XERO_SYNC_WEB_SECRET": "w" * 40,
                                  "XERO_CLIENT_SECRET": "c" * 40})
    shown = repr(settings)
    assert not any(c * 40 in shown for c in "ktswc")
