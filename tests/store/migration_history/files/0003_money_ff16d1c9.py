"""Money is right in Xero (issue 8): the fees setting, repairs linked to what they repair, refunds
deducted in a later payout (additive).

- xero_connections.fees_as_spend: book a payout's fees as a separate SPEND from the deposit
  account instead of a negative line on the payout deposit (SPEC section 4's switch).
- outbox.repairs_outbox_id: a write re-queued by the reconciliation diff points at the write it
  repairs (one repair per original write).
- payments.refund_payout_id: the payout that deducted this (refunded) payment.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("xero_connections") as batch:
        batch.add_column(sa.Column("fees_as_spend", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("repairs_outbox_id", sa.Integer(), nullable=True))
        batch.create_index("ix_outbox_repairs_outbox_id", ["repairs_outbox_id"], unique=True)
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("refund_payout_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("refund_payout_id")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_repairs_outbox_id")
        batch.drop_column("repairs_outbox_id")
    with op.batch_alter_table("xero_connections") as batch:
        batch.drop_column("fees_as_spend")
