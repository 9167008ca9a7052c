"""reconciliation_diffs: the latest reconciliation diff per partner (additive).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reconciliation_diffs",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("row_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=255), nullable=False),
        sa.Column("platform_minor", sa.BigInteger(), nullable=True),
        sa.Column("xero_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("explained", sa.Boolean(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.partner_id"],
                                name=op.f("fk_reconciliation_diffs_partner_id_partners")),
        sa.PrimaryKeyConstraint("partner_id", "row_no", name=op.f("pk_reconciliation_diffs")),
    )


def downgrade() -> None:
    op.drop_table("reconciliation_diffs")
