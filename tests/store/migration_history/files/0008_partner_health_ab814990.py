"""Partner health: the last failed run on the connection, and Xero API calls per partner and day.

Revision ID: 0008
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("xero_connections") as batch:
        batch.add_column(sa.Column("last_failure_job", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("last_failure_at", TS, nullable=True))
        batch.add_column(sa.Column("last_failure_message", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_failure_run_id", sa.String(length=64), nullable=True))
    op.create_table(
        "xero_api_calls",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("day_remaining", sa.Integer(), nullable=True),
        sa.Column("updated_at", TS, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.partner_id"],
                                name=op.f("fk_xero_api_calls_partner_id_partners")),
        sa.PrimaryKeyConstraint("partner_id", "day", name=op.f("pk_xero_api_calls")),
    )


def downgrade() -> None:
    op.drop_table("xero_api_calls")
    with op.batch_alter_table("xero_connections") as batch:
        for name in ("last_failure_run_id", "last_failure_message", "last_failure_at", "last_failure_job"):
            batch.drop_column(name)
