"""Definition and materialization metadata derived from the store's SQLAlchemy tables.

`column_schema(table)` builds the `dagster/column_schema` the UI shows from xero_sync.platform.schema
itself, so the documented columns cannot drift from the real ones; `row_counts` gives the standard
`dagster/row_count` (rows in the asset's table, all partners) for materializations.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import sqlalchemy as sa

from xero_sync.platform.schema import UTCDateTime
from xero_sync.platform.sizes import row_count
from xero_sync.resources.platform import PlatformResource

OWNERS = ["team:data"]


def _type(column: sa.Column) -> str:
    if isinstance(column.type, UTCDateTime):
        return "timestamp (UTC)"
    if column.name.endswith("_minor"):
        return f"{column.type} (minor units)"  # money: integer minor units beside a currency
    return str(column.type)


def _other(column: sa.Column) -> list[str]:
    other = ["primary key"] if column.primary_key else []
    other += [f"references {fk.target_fullname}" for fk in column.foreign_keys]
    return other


def column_schema(table: sa.Table) -> dg.TableSchema:
    return dg.TableSchema(columns=[
        dg.TableColumn(
            name=c.name, type=_type(c),
            constraints=dg.TableColumnConstraints(nullable=bool(c.nullable), unique=bool(c.unique),
                                                  other=_other(c)),
        )
        for c in table.columns
    ])


def table_metadata(table: sa.Table) -> dict:
    """Definition metadata for an asset stored in `table`."""
    return {"dagster/column_schema": column_schema(table), "dagster/table_name": table.name}


def row_counts(platform: PlatformResource, tables: Mapping[str, sa.Table]) -> dict[str, dict]:
    """{name: {"dagster/row_count": rows in its table}} for a materialization's metadata."""
    with platform.begin() as conn:
        return {name: {"dagster/row_count": row_count(conn, table)} for name, table in tables.items()}
