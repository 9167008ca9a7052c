"""Definition and materialization metadata derived from the store's SQLAlchemy tables.

`column_schema(table)` builds the `dagster/column_schema` the UI shows from xero_sync.store.schema
itself, so the documented columns cannot drift from the real ones. A partition's `dagster/row_count`
is its own month's records (glue/metadata.py), never a count of the whole table.
"""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from xero_sync.store.schema import UTCDateTime

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
