"""Table sizes for asset metadata."""

from __future__ import annotations

import sqlalchemy as sa


def row_count(conn: sa.Connection, table: sa.Table, partner_id: str | None = None) -> int:
    """Rows in `table` (one partner's when `partner_id` is given and the table has the column)."""
    query = sa.select(sa.func.count()).select_from(table)
    if partner_id is not None and "partner_id" in table.c:
        query = query.where(table.c.partner_id == partner_id)
    return int(conn.execute(query).scalar_one())
