"""Asset metadata that reads well in the UI: kinds, owners, business windows, column schemas
derived from the store's tables (so they cannot drift)."""

from __future__ import annotations

import dagster as dg
import pytest

from xero_sync.definitions import defs
from xero_sync.store import schema

TABLES = {
    "xero_contacts": schema.xero_contacts, "xero_invoices": schema.xero_invoices,
    "xero_payments": schema.xero_payments, "xero_credit_notes": schema.xero_credit_notes,
    "platform_customers": schema.customers, "platform_invoices": schema.invoices,
    "platform_payments": schema.payments, "reconciliation_diff": schema.reconciliation_diffs,
}
KINDS = {"xero_invoices": {"xero", "python"}, "platform_invoices": {"sqlalchemy", "python"},
         "reconciliation_diff": {"pandas", "xero"}, "partner_health": {"python", "sqlalchemy"}}


def _spec(name: str) -> dg.AssetSpec:
    return defs.get_assets_def(name).get_asset_spec(dg.AssetKey(name))


@pytest.mark.parametrize("name,table", TABLES.items())
def test_column_schema_is_the_tables_own(name, table):
    spec = _spec(name)
    columns = spec.metadata["dagster/column_schema"].columns
    assert [c.name for c in columns] == [c.name for c in table.columns]
    by_name = {c.name: c for c in columns}
    for column in table.columns:
        assert by_name[column.name].constraints.nullable == bool(column.nullable), column.name
        assert ("primary key" in by_name[column.name].constraints.other) == column.primary_key
    assert spec.metadata["dagster/table_name"] == table.name
    if "total_minor" in by_name:
        assert by_name["total_minor"].type == "BIGINT (minor units)"


@pytest.mark.parametrize("name", [*TABLES, "partner_health"])
def test_owners_and_descriptions(name):
    spec = _spec(name)
    assert spec.owners == ["team:data"]
    assert spec.kinds, name
    assert "window" in (spec.description or "").lower(), name


@pytest.mark.parametrize("name,kinds", KINDS.items())
def test_kinds(name, kinds):
    assert set(_spec(name).kinds) == kinds


def test_month_assets_say_the_open_ended_window():
    description = _spec("xero_invoices").description
    assert "partner x month" in description and "first month" in description and "open-ended" in description
