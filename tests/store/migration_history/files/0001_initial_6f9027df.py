"""Initial platform store: every table of xero_sync.platform.schema.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Plain timestamptz here: the UTC handling lives in schema.UTCDateTime, which only changes how
# values are bound and read, not the column type.
TS = sa.DateTime(timezone=True)
NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table('partners',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', TS, server_default=NOW, nullable=False),
    sa.PrimaryKeyConstraint('partner_id', name=op.f('pk_partners'))
    )
    op.create_table('sync_watermarks',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('modified_since', TS, nullable=True),
    sa.Column('last_full_reread_at', TS, nullable=True),
    sa.PrimaryKeyConstraint('partner_id', 'entity', name=op.f('pk_sync_watermarks'))
    )
    op.create_table('webhook_events',
    sa.Column('event_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('event_date', TS, nullable=False),
    sa.Column('received_at', TS, server_default=NOW, nullable=False),
    sa.Column('processed_at', TS, nullable=True),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_webhook_events'))
    )
    op.create_table('xero_contacts',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('is_customer', sa.Boolean(), nullable=False),
    sa.Column('email', sa.String(length=500), nullable=True),
    sa.Column('updated_at', TS, nullable=False),
    sa.Column('pulled_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('partner_id', 'contact_id', name=op.f('pk_xero_contacts'))
    )
    op.create_table('xero_credit_notes',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('credit_note_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('remaining_credit_minor', sa.BigInteger(), nullable=False),
    sa.Column('allocations', sa.JSON(), nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.Column('pulled_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('partner_id', 'credit_note_id', name=op.f('pk_xero_credit_notes'))
    )
    op.create_index(op.f('ix_xero_credit_notes_month'), 'xero_credit_notes', ['month'], unique=False)
    op.create_table('xero_invoices',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_number', sa.String(length=255), nullable=True),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('contact_id', sa.String(length=64), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('amount_due_minor', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid_minor', sa.BigInteger(), nullable=False),
    sa.Column('amount_credited_minor', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.Column('pulled_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('partner_id', 'invoice_id', name=op.f('pk_xero_invoices'))
    )
    op.create_index(op.f('ix_xero_invoices_month'), 'xero_invoices', ['month'], unique=False)
    op.create_table('xero_payments',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=True),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=500), nullable=True),
    sa.Column('account_id', sa.String(length=64), nullable=True),
    sa.Column('updated_at', TS, nullable=False),
    sa.Column('pulled_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('partner_id', 'payment_id', name=op.f('pk_xero_payments'))
    )
    op.create_index(op.f('ix_xero_payments_invoice_id'), 'xero_payments', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_xero_payments_month'), 'xero_payments', ['month'], unique=False)
    op.create_table('xero_token_sets',
    sa.Column('token_set_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('access_token_enc', sa.Text(), nullable=False),
    sa.Column('refresh_token_enc', sa.Text(), nullable=False),
    sa.Column('id_token_enc', sa.Text(), nullable=True),
    sa.Column('scope', sa.Text(), server_default='', nullable=False),
    sa.Column('token_type', sa.String(length=32), server_default='Bearer', nullable=False),
    sa.Column('expires_at', TS, nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', TS, server_default=NOW, nullable=False),
    sa.PrimaryKeyConstraint('token_set_id', name=op.f('pk_xero_token_sets'))
    )
    op.create_table('customers',
    sa.Column('customer_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('xero_contact_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('email', sa.String(length=500), nullable=True),
    sa.Column('deleted_in_xero', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('archived', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('xero_updated_at', TS, nullable=True),
    sa.Column('updated_at', TS, server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.partner_id'], name=op.f('fk_customers_partner_id_partners')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customers')),
    sa.UniqueConstraint('partner_id', 'xero_contact_id', name='uq_customers_partner_xero_contact')
    )
    op.create_table('outbox',
    sa.Column('outbox_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=32), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('xero_ids', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', TS, server_default=NOW, nullable=False),
    sa.Column('updated_at', TS, server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.partner_id'], name=op.f('fk_outbox_partner_id_partners')),
    sa.PrimaryKeyConstraint('outbox_id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    op.create_index('ix_outbox_status_id', 'outbox', ['status', 'outbox_id'], unique=False)
    op.create_index('ix_outbox_subject_id', 'outbox', ['subject_id'], unique=False)
    op.create_table('payouts',
    sa.Column('payout_id', sa.String(length=64), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('gross_minor', sa.BigInteger(), nullable=False),
    sa.Column('fees_minor', sa.BigInteger(), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_out_on', sa.Date(), nullable=False),
    sa.Column('created_at', TS, server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.partner_id'], name=op.f('fk_payouts_partner_id_partners')),
    sa.PrimaryKeyConstraint('payout_id', name=op.f('pk_payouts'))
    )
    op.create_table('xero_connections',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.Column('tenant_name', sa.String(length=200), nullable=True),
    sa.Column('xero_connection_id', sa.String(length=64), nullable=True),
    sa.Column('token_set_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), server_default='not_connected', nullable=False),
    sa.Column('status_detail', sa.Text(), nullable=True),
    sa.Column('parked_until', TS, nullable=True),
    sa.Column('base_currency', sa.String(length=3), nullable=True),
    sa.Column('first_month', sa.Date(), nullable=True),
    sa.Column('months_total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('months_done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('payments_account_id', sa.String(length=64), nullable=True),
    sa.Column('payments_account_is_bank', sa.Boolean(), nullable=True),
    sa.Column('deposit_account_id', sa.String(length=64), nullable=True),
    sa.Column('fees_account_id', sa.String(length=64), nullable=True),
    sa.Column('income_account_id', sa.String(length=64), nullable=True),
    sa.Column('clearing_contact_id', sa.String(length=64), nullable=True),
    sa.Column('connected_at', TS, nullable=True),
    sa.Column('last_sync_at', TS, nullable=True),
    sa.Column('created_at', TS, server_default=NOW, nullable=False),
    sa.Column('updated_at', TS, server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.partner_id'], name=op.f('fk_xero_connections_partner_id_partners')),
    sa.ForeignKeyConstraint(['token_set_id'], ['xero_token_sets.token_set_id'], name=op.f('fk_xero_connections_token_set_id_xero_token_sets')),
    sa.PrimaryKeyConstraint('partner_id', name=op.f('pk_xero_connections')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_xero_connections_tenant_id'))
    )
    op.create_table('invoices',
    sa.Column('invoice_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('xero_invoice_id', sa.String(length=64), nullable=True),
    sa.Column('number', sa.String(length=255), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('outstanding_minor', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('xero_status', sa.String(length=32), nullable=True),
    sa.Column('deleted_in_xero', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('archived', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('conflict', sa.Text(), nullable=True),
    sa.Column('xero_updated_at', TS, nullable=True),
    sa.Column('updated_at', TS, server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.customer_id'], name=op.f('fk_invoices_customer_id_customers')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.partner_id'], name=op.f('fk_invoices_partner_id_partners')),
    sa.PrimaryKeyConstraint('invoice_id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('partner_id', 'xero_invoice_id', name='uq_invoices_partner_xero_invoice')
    )
    op.create_table('payments',
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('fee_minor', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payout_id', sa.String(length=64), nullable=True),
    sa.Column('xero_payment_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', TS, server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.invoice_id'], name=op.f('fk_payments_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.partner_id'], name=op.f('fk_payments_partner_id_partners')),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.payout_id'], name=op.f('fk_payments_payout_id_payouts')),
    sa.PrimaryKeyConstraint('payment_id', name=op.f('pk_payments'))
    )
    op.create_index('ix_payments_invoice_id', 'payments', ['invoice_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_payments_invoice_id', table_name='payments')
    op.drop_table('payments')
    op.drop_table('invoices')
    op.drop_table('xero_connections')
    op.drop_table('payouts')
    op.drop_index('ix_outbox_subject_id', table_name='outbox')
    op.drop_index('ix_outbox_status_id', table_name='outbox')
    op.drop_table('outbox')
    op.drop_table('customers')
    op.drop_table('xero_token_sets')
    op.drop_index(op.f('ix_xero_payments_month'), table_name='xero_payments')
    op.drop_index(op.f('ix_xero_payments_invoice_id'), table_name='xero_payments')
    op.drop_table('xero_payments')
    op.drop_index(op.f('ix_xero_invoices_month'), table_name='xero_invoices')
    op.drop_table('xero_invoices')
    op.drop_index(op.f('ix_xero_credit_notes_month'), table_name='xero_credit_notes')
    op.drop_table('xero_credit_notes')
    op.drop_table('xero_contacts')
    op.drop_table('webhook_events')
    op.drop_table('sync_watermarks')
    op.drop_table('partners')
