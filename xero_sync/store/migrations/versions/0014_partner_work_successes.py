"""A partner's recent successes per work (asset + months, job or check), so that a failure
reported after a later success of the same work stays cleared, whoever reported either
(issue 21, "one failure-bookkeeping policy").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "partner_work_successes",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("work", sa.String(length=200), nullable=False),
        sa.Column("first_month", sa.String(length=10), nullable=False),
        sa.Column("last_month", sa.String(length=10), nullable=False),
        sa.Column("succeeded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.partner_id"],
                                name=op.f("fk_partner_work_successes_partner_id_partners")),
        sa.PrimaryKeyConstraint("partner_id", "work", "first_month", "last_month",
                                name=op.f("pk_partner_work_successes")),
    )


def downgrade() -> None:
    op.drop_table("partner_work_successes")
