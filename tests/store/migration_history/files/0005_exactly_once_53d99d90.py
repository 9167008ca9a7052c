"""exactly once: each outbox row keeps the request it was first sent in; per-tenant lock (additive).

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("request_key", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("request", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("first_sent_at", TS, nullable=True))
        batch.add_column(sa.Column("sent_at", TS, nullable=True))
        batch.add_column(sa.Column("ever_unknown", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
    op.create_table(
        "tenant_locks",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("heartbeat_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_locks")),
    )


def downgrade() -> None:
    op.drop_table("tenant_locks")
    with op.batch_alter_table("outbox") as batch:
        for name in ("claimed_by", "ever_unknown", "sent_at", "first_sent_at", "request", "request_key"):
            batch.drop_column(name)
