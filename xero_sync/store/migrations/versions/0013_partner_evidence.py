"""Partner health's evidence: the latest reconciliation per partner, failures per partner and
work (asset + months, job or check), and each phase's last success per partner; the CurrencyRate
Xero booked each landed payment at.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("xero_payments") as batch:
        batch.add_column(sa.Column("currency_rate", sa.String(length=32), nullable=True))
    op.create_table(
        "partner_reconciliations",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("unexplained", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.partner_id"],
                                name=op.f("fk_partner_reconciliations_partner_id_partners")),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_partner_reconciliations")),
    )
    op.create_table(
        "partner_failures",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("work", sa.String(length=200), nullable=False),
        sa.Column("first_month", sa.String(length=10), nullable=False),
        sa.Column("last_month", sa.String(length=10), nullable=False),
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("failed_at", TS, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.partner_id"],
                                name=op.f("fk_partner_failures_partner_id_partners")),
        sa.PrimaryKeyConstraint("partner_id", "work", "first_month", "last_month",
                                name=op.f("pk_partner_failures")),
    )
    # A failure recorded before this revision (one per partner, by job) stays open as that job's
    # failure: a later success of the same job clears it.
    op.execute(sa.text(
        "INSERT INTO partner_failures (partner_id, work, first_month, last_month, job, failed_at, "
        "message, run_id) SELECT partner_id, CASE WHEN last_failure_job = 'incremental_cohort_job' "
        "THEN 'incremental_sync_job' ELSE last_failure_job END, '', '', last_failure_job, "
        "last_failure_at, COALESCE(last_failure_message, ''), last_failure_run_id "
        "FROM xero_connections WHERE last_failure_at IS NOT NULL AND last_failure_job IS NOT NULL"))
    op.create_table(
        "partner_phase_successes",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("succeeded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.partner_id"],
                                name=op.f("fk_partner_phase_successes_partner_id_partners")),
        sa.PrimaryKeyConstraint("partner_id", "phase", name=op.f("pk_partner_phase_successes")),
    )


def downgrade() -> None:
    op.drop_table("partner_phase_successes")
    op.drop_table("partner_failures")
    op.drop_table("partner_reconciliations")
    with op.batch_alter_table("xero_payments") as batch:
        batch.drop_column("currency_rate")
