"""Token refresh lease and webhook dedupe (additive).

- `xero_token_sets.refresh_owner` / `refresh_lease_until`: the single refresher claims the token
  set with a compare-and-set and calls Xero outside any transaction (SQLite's write lock is no
  longer held during the HTTP call).
- `webhook_events.dedupe_key` (unique): a replayed delivery stores nothing new;
  `ix_webhook_events_tenant_received`: per-tenant bounds and the purge of unknown tenants.

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("xero_token_sets") as batch:
        batch.add_column(sa.Column("refresh_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("refresh_lease_until", TS, nullable=True))
    with op.batch_alter_table("webhook_events") as batch:
        batch.add_column(sa.Column("dedupe_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_webhook_events_dedupe_key", ["dedupe_key"])
    op.create_index("ix_webhook_events_tenant_received", "webhook_events", ["tenant_id", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_events_tenant_received", table_name="webhook_events")
    with op.batch_alter_table("webhook_events") as batch:
        batch.drop_constraint("uq_webhook_events_dedupe_key", type_="unique")
        batch.drop_column("dedupe_key")
    with op.batch_alter_table("xero_token_sets") as batch:
        batch.drop_column("refresh_lease_until")
        batch.drop_column("refresh_owner")
