"""partner_months (months landed per partner), rate_windows (shared Xero call budget), and an
index on connection status for the onboarding sensor (additive).

Revision ID: 0009
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "partner_months",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("landed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "month", name=op.f("pk_partner_months")),
    )
    op.create_table(
        "rate_windows",
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("window_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "window_start", name=op.f("pk_rate_windows")),
    )
    op.create_index("ix_xero_connections_status", "xero_connections", ["status", "partner_id"])


def downgrade() -> None:
    op.drop_index("ix_xero_connections_status", table_name="xero_connections")
    op.drop_table("rate_windows")
    op.drop_table("partner_months")
