"""Integrations page sessions: a generation per partner (sign-out and Disconnect end every
session) and the single-use ids of the sign-in assertions already exchanged.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "partner_sessions",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", TS, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.partner_id"],
                                name=op.f("fk_partner_sessions_partner_id_partners")),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_partner_sessions")),
    )
    op.create_table(
        "signin_assertions",
        sa.Column("jti", sa.String(length=128), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_signin_assertions")),
    )
    op.create_index("ix_signin_assertions_expires_at", "signin_assertions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_signin_assertions_expires_at", table_name="signin_assertions")
    op.drop_table("signin_assertions")
    op.drop_table("partner_sessions")
