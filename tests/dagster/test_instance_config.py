"""The production and embedded dagster.yaml files are valid instance configs with one run per tenant."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
from dagster._core.instance.config import dagster_instance_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("source", ["production", "embedded"])
def test_instance_config_validates_and_limits_runs_per_tenant(source, tmp_path, monkeypatch):
    for var, value in {"DAGSTER_PG_USERNAME": "dagster", "DAGSTER_PG_PASSWORD": "x",
                       "DAGSTER_PG_HOST": "db", "DAGSTER_PG_DB": "dagster"}.items():
        monkeypatch.setenv(var, value)
    if source == "production":
        shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    else:
        text = resources.files("xero_sync.instance").joinpath("local.yaml").read_text()
        (tmp_path / "dagster.yaml").write_text(text)
    config, _custom = dagster_instance_config(str(tmp_path))
    limits = {limit["key"]: limit for limit in config["concurrency"]["runs"]["tag_concurrency_limits"]}
    assert limits["xero/tenant"]["limit"] == 1
    assert limits["xero/tenant"]["value"] == {"applyLimitPerUniqueValue": True}
    # push_job launched by hand carries only `dagster/partition` (the partner): limited too.
    assert limits["dagster/partition"]["limit"] == 1
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    if source == "production":
        storage = config["storage"]["custom"]
        assert (storage["module"], storage["class"]) == ("xero_sync.deploy.pg_storage", "PooledPostgresStorage")
        assert storage["config"]["postgres_db"]["scheme"] == "postgresql+psycopg2"


@pytest.mark.postgres
def test_production_instance_runs_on_dagster_postgres(pg_url, tmp_path, monkeypatch):
    """The production dagster.yaml, pointed at a fresh PostgreSQL database, stores runs and events."""
    import dagster as dg
    import sqlalchemy as sa

    url = sa.make_url(pg_url)
    for var, value in {"DAGSTER_PG_USERNAME": url.username or "postgres", "DAGSTER_PG_PASSWORD": url.password or "",
                       "DAGSTER_PG_HOST": url.host, "DAGSTER_PG_DB": url.database}.items():
        monkeypatch.setenv(var, value)
    text = (ROOT / "dagster.yaml").read_text().replace("port: 5432", f"port: {url.port or 5432}")
    (tmp_path / "dagster.yaml").write_text(text)

    @dg.asset
    def probe() -> int:
        return 1

    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.get_ref().storage).__name__ == "PooledPostgresStorage"
        result = dg.materialize([probe], instance=instance)
        assert result.success
        assert instance.get_latest_materialization_event(dg.AssetKey("probe")) is not None


def test_the_embedded_instance_logs_runs_at_info_not_debug(tmp_path):
    """The demo's terminal gets run logs at INFO (Dagster's default console logger is DEBUG)."""
    import dagster as dg
    from dagster._loggers import default_system_loggers

    (tmp_path / "dagster.yaml").write_text(resources.files("xero_sync.instance").joinpath("local.yaml").read_text())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        [(_logger, config)] = default_system_loggers(instance)
    assert config["log_level"] == "INFO"
