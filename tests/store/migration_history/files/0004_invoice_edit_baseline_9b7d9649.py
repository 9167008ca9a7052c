"""invoices: the last Xero amount/due date landed and the edit conflict (three-way rule).

Existing Xero invoices take their current amount and due date as the baseline: until now
nothing could edit them in Alternative, so what they hold is what Xero last sent.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("xero_total_minor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("xero_due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("edit_conflict", sa.Text(), nullable=True))
    op.execute(
        "UPDATE invoices SET xero_total_minor = total_minor, xero_due_date = due_date "
        "WHERE source = 'xero'"
    )


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("edit_conflict")
        batch.drop_column("xero_due_date")
        batch.drop_column("xero_total_minor")
