"""Partner shards: the shard each partner's partitions live in, and moves between shards.

Every existing partner stays in shard 0 (the unprefixed assets it already has).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("xero_connections") as batch:
        batch.add_column(sa.Column("shard", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_xero_connections_shard", "xero_connections", ["shard", "status", "partner_id"])
    op.create_table(
        "shard_moves",
        sa.Column("move_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("from_shard", sa.Integer(), nullable=False),
        sa.Column("to_shard", sa.Integer(), nullable=False),
        sa.Column("moved_at", TS, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("departed_at", TS, nullable=True),
        sa.Column("arrived_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.partner_id"],
                                name=op.f("fk_shard_moves_partner_id_partners")),
        sa.PrimaryKeyConstraint("move_id", name=op.f("pk_shard_moves")),
    )
    op.create_index("ix_shard_moves_from", "shard_moves", ["from_shard", "departed_at"])
    op.create_index("ix_shard_moves_to", "shard_moves", ["to_shard", "arrived_at"])


def downgrade() -> None:
    op.drop_index("ix_shard_moves_to", table_name="shard_moves")
    op.drop_index("ix_shard_moves_from", table_name="shard_moves")
    op.drop_table("shard_moves")
    op.drop_index("ix_xero_connections_shard", table_name="xero_connections")
    with op.batch_alter_table("xero_connections") as batch:
        batch.drop_column("shard")
