"""Events that cannot double-pay (issue 18): invariants the database keeps.

- invoices: one Alternative invoice per (partner, number), a unique index on the Alternative ones
  (Xero's own invoices may repeat a number). Existing duplicates stop the upgrade, named.
- payments and payouts: keyed by (partner_id, id), so one partner's payment or payout ids never
  collide with nor reveal another's; a payment's payout is (partner_id, payout_id).
- event_requests: the events API's idempotency keys, one row per (partner, key).
- outbox.status and xero_connections.status: CHECK constraints on their known states (issue 21).
  Existing rows in another state stop the upgrade, named.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ALTERNATIVE = sa.text("source = 'alternative'")
# The states as of this revision (schema.OUTBOX_STATUSES / CONNECTION_STATUSES may grow later).
STATUSES = {
    "outbox": ("pending", "waiting_accounts", "sending", "unknown", "done", "rejected", "cancelled", "held"),
    "xero_connections": ("not_connected", "pending", "connected", "needs_reauth", "disconnected"),
}


def _in(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def _refuse_unknown_statuses() -> None:
    for table, statuses in STATUSES.items():
        rows = op.get_bind().execute(sa.text(
            f"SELECT status, COUNT(*) FROM {table} WHERE NOT ({_in(statuses)}) GROUP BY status")).all()
        if rows:
            listed = ", ".join(f"{r[0]!r} x{r[1]}" for r in rows)
            raise RuntimeError(f"migration 0011 allows only {', '.join(statuses)} in {table}.status; "
                               f"found {listed}. Correct those rows, then run `xero-sync db upgrade` again.")


def _refuse_duplicate_numbers() -> None:
    rows = op.get_bind().execute(sa.text(
        "SELECT partner_id, number, COUNT(*) FROM invoices WHERE source = 'alternative' "
        "GROUP BY partner_id, number HAVING COUNT(*) > 1 ORDER BY partner_id, number LIMIT 20"
    )).all()
    if rows:
        listed = ", ".join(f"{r[0]}/{r[1]} x{r[2]}" for r in rows)
        raise RuntimeError(
            "migration 0011 needs one Alternative invoice per (partner, number); these numbers "
            f"are used more than once: {listed}. Archive or renumber the extra invoices, then "
            "run `xero-sync db upgrade` again.")


def upgrade() -> None:
    _refuse_duplicate_numbers()
    _refuse_unknown_statuses()
    for table, statuses in STATUSES.items():
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(op.f(f"ck_{table}_status"), _in(statuses))
    op.create_index("uq_invoices_partner_alternative_number", "invoices", ["partner_id", "number"],
                    unique=True, sqlite_where=ALTERNATIVE, postgresql_where=ALTERNATIVE)
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # The tables are copied and renamed: payments point at payouts meanwhile. Checked at commit.
        op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("fk_payments_payout_id_payouts", type_="foreignkey")
    with op.batch_alter_table("payouts") as batch:
        batch.drop_constraint("pk_payouts", type_="primary")
        batch.create_primary_key("pk_payouts", ["partner_id", "payout_id"])
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("pk_payments", type_="primary")
        batch.create_primary_key("pk_payments", ["partner_id", "payment_id"])
        batch.create_foreign_key("fk_payments_payout_payouts", "payouts",
                                 ["partner_id", "payout_id"], ["partner_id", "payout_id"])
    op.create_table(
        "event_requests",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.partner_id"],
                                name=op.f("fk_event_requests_partner_id_partners")),
        sa.PrimaryKeyConstraint("partner_id", "idempotency_key", name=op.f("pk_event_requests")),
    )


def downgrade() -> None:
    for table in STATUSES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_status"), type_="check")
    op.drop_table("event_requests")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("fk_payments_payout_payouts", type_="foreignkey")
        batch.drop_constraint("pk_payments", type_="primary")
        batch.create_primary_key("pk_payments", ["payment_id"])
    with op.batch_alter_table("payouts") as batch:
        batch.drop_constraint("pk_payouts", type_="primary")
        batch.create_primary_key("pk_payouts", ["payout_id"])
    with op.batch_alter_table("payments") as batch:
        batch.create_foreign_key("fk_payments_payout_id_payouts", "payouts", ["payout_id"], ["payout_id"])
    op.drop_index("uq_invoices_partner_alternative_number", table_name="invoices")
