"""The platform store's tables (SQLAlchemy Core), shared by PostgreSQL and SQLite.

Money is integer minor units (`BigInteger`) with the currency beside it. Timestamps are stored as
timezone-aware UTC. Alembic migrations in `migrations/` create exactly these tables; a test checks
that the migrated database matches this metadata.

Three groups:
- connection and tokens: `partners`, `xero_connections`, `xero_token_sets`;
- what was pulled from Xero, one row per Xero record (landing): `xero_contacts`, `xero_invoices`,
  `xero_payments`, `xero_credit_notes`, plus `sync_watermarks`;
- the Alternative side: `customers`, `invoices`, `payments`, `payouts`, the `outbox` of writes to
  Xero, and `webhook_events`.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from xero_sync.store.states import ConnectionStatus, OutboxStatus

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)



class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in and out on every backend.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones and would silently drop tzinfo, so
    values are stored there as naive UTC (a fixed-width text that also compares correctly) and
    given back their UTC tzinfo on the way out. Naive input is refused: its zone is unknowable.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware (UTC) one")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # SQLite server defaults (CURRENT_TIMESTAMP) come back as text
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


TS = UTCDateTime()


def _now_default() -> sa.sql.elements.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


# --- connection and tokens -------------------------------------------------------------------

partners = sa.Table(
    "partners",
    metadata,
    sa.Column("partner_id", sa.String(64), primary_key=True),  # slug; also the Dagster partition key
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", TS, nullable=False, server_default=_now_default()),
)

xero_token_sets = sa.Table(
    "xero_token_sets",
    metadata,
    sa.Column("token_set_id", sa.Integer, primary_key=True, autoincrement=True),
    # Fernet ciphertexts; never the plain tokens.
    sa.Column("access_token_enc", sa.Text, nullable=False),
    sa.Column("refresh_token_enc", sa.Text, nullable=False),
    sa.Column("id_token_enc", sa.Text, nullable=True),
    sa.Column("scope", sa.Text, nullable=False, server_default=""),
    sa.Column("token_type", sa.String(32), nullable=False, server_default="Bearer"),
    sa.Column("expires_at", TS, nullable=False),
    # Bumped on every rotation: a refresher that read version N writes only if it is still N.
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("updated_at", TS, nullable=False, server_default=_now_default()),
    # The one process refreshing this token set now (claimed by compare-and-set), until when.
    sa.Column("refresh_owner", sa.String(64), nullable=True),
    sa.Column("refresh_lease_until", TS, nullable=True),
)

# A connection's status is a states.ConnectionStatus (the state machine is described there).
xero_connections = sa.Table(
    "xero_connections",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("tenant_id", sa.String(64), nullable=True, unique=True),
    sa.Column("tenant_name", sa.String(200), nullable=True),
    sa.Column("xero_connection_id", sa.String(64), nullable=True),  # for DELETE /connections/{id}
    sa.Column("token_set_id", sa.Integer, sa.ForeignKey("xero_token_sets.token_set_id"), nullable=True),
    sa.Column("status", sa.String(32), nullable=False, server_default=ConnectionStatus.NOT_CONNECTED.value),
    sa.Column("status_detail", sa.Text, nullable=True),  # what the partner must do, in words
    sa.Column("parked_until", TS, nullable=True),  # daily limit reached: no calls before this
    sa.Column("base_currency", sa.String(3), nullable=True),
    sa.Column("first_month", sa.Date, nullable=True),  # month of the organisation's first transaction
    sa.Column("months_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("months_done", sa.Integer, nullable=False, server_default="0"),
    # Set Up Accounts (Xero AccountIDs) and how the payments account behaves.
    sa.Column("payments_account_id", sa.String(64), nullable=True),
    sa.Column("payments_account_is_bank", sa.Boolean, nullable=True),
    sa.Column("deposit_account_id", sa.String(64), nullable=True),
    sa.Column("fees_account_id", sa.String(64), nullable=True),
    sa.Column("income_account_id", sa.String(64), nullable=True),
    sa.Column("clearing_contact_id", sa.String(64), nullable=True),  # stand-alone deposits' contact
    # Payout fees as a separate SPEND from the deposit account instead of a negative line on the
    # payout deposit (SPEC section 4's switch; Xero accepting the negative line is unverified).
    sa.Column("fees_as_spend", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("connected_at", TS, nullable=True),
    sa.Column("last_sync_at", TS, nullable=True),
    sa.Column("created_at", TS, nullable=False, server_default=_now_default()),
    sa.Column("updated_at", TS, nullable=False, server_default=_now_default()),
    # The partner's last failed Dagster run (run-failure sensor); cleared by a later successful
    # run of the same job. The message is truncated and scrubbed of anything token-like.
    sa.Column("last_failure_job", sa.String(200), nullable=True),
    sa.Column("last_failure_at", TS, nullable=True),
    sa.Column("last_failure_message", sa.Text, nullable=True),
    sa.Column("last_failure_run_id", sa.String(64), nullable=True),
    # The partner's shard (xero_sync.shards): which code location's assets hold its partitions.
    # Assigned when the partner is created and changed only by `xero-sync shards move|rebalance`.
    sa.Column("shard", sa.Integer, nullable=False, server_default="0"),
    # The onboarding sensor reads pending connections every tick.
    sa.Index("ix_xero_connections_status", "status", "partner_id"),
    sa.CheckConstraint(sa.column("status").in_([s.value for s in ConnectionStatus]), name="status"),
    sa.Index("ix_xero_connections_shard", "shard", "status", "partner_id"),
)

# Xero API calls per partner and UTC day, added up by XeroResource when a run (or sensor tick)
# ends; `day_remaining` is the last X-DayLimit-Remaining Xero reported that day.
xero_api_calls = sa.Table(
    "xero_api_calls",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("day_remaining", sa.Integer, nullable=True),
    sa.Column("updated_at", TS, nullable=False, server_default=_now_default()),
)

# --- landing: records as pulled from Xero --------------------------------------------------

xero_contacts = sa.Table(
    "xero_contacts",
    metadata,
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("contact_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("is_customer", sa.Boolean, nullable=False),
    sa.Column("email", sa.String(500), nullable=True),
    sa.Column("updated_at", TS, nullable=False),  # Xero UpdatedDateUTC
    sa.Column("pulled_at", TS, nullable=False),
)

xero_invoices = sa.Table(
    "xero_invoices",
    metadata,
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("invoice_id", sa.String(64), primary_key=True),
    sa.Column("invoice_number", sa.String(255), nullable=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("contact_id", sa.String(64), nullable=False),
    sa.Column("month", sa.Date, nullable=False, index=True),  # first day of the invoice Date's month
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("amount_due_minor", sa.BigInteger, nullable=False),
    sa.Column("amount_paid_minor", sa.BigInteger, nullable=False),
    sa.Column("amount_credited_minor", sa.BigInteger, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("pulled_at", TS, nullable=False),
)

xero_payments = sa.Table(
    "xero_payments",
    metadata,
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("payment_id", sa.String(64), primary_key=True),
    sa.Column("invoice_id", sa.String(64), nullable=True, index=True),
    sa.Column("month", sa.Date, nullable=False, index=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reference", sa.String(500), nullable=True),
    sa.Column("account_id", sa.String(64), nullable=True),
    # Xero's CurrencyRate for the payment (foreign units per base unit; 1 in the base currency):
    # what the payment is worth in the organisation's base currency is amount / rate. Kept as
    # Xero's decimal text, exact on both backends (no float on the way).
    sa.Column("currency_rate", sa.String(32), nullable=True),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("pulled_at", TS, nullable=False),
)

xero_credit_notes = sa.Table(
    "xero_credit_notes",
    metadata,
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("credit_note_id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("contact_id", sa.String(64), nullable=False),
    sa.Column("month", sa.Date, nullable=False, index=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("remaining_credit_minor", sa.BigInteger, nullable=False),
    sa.Column("allocations", sa.JSON, nullable=False),  # [{"invoice_id", "amount_minor", "date"}]
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("pulled_at", TS, nullable=False),
)

# One row per partner x entity: the If-Modified-Since watermark and the last full re-read.
sync_watermarks = sa.Table(
    "sync_watermarks",
    metadata,
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("entity", sa.String(32), primary_key=True),  # contacts | invoices | payments | credit_notes
    sa.Column("modified_since", TS, nullable=True),
    sa.Column("last_full_reread_at", TS, nullable=True),
)

# Months of a partner landed into the platform (one row per partner x month), written by the
# platform_records asset in the transaction that applies them: the onboarding sensor reads its
# pending partners' rows here instead of scanning Dagster's materializations of every partner.
# A partner moved between shards: the old shard's sensor removes its partition (`departed_at`),
# the new shard's sensor adds it and reports the months already landed (`arrived_at`).
shard_moves = sa.Table(
    "shard_moves",
    metadata,
    sa.Column("move_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), nullable=False),
    sa.Column("from_shard", sa.Integer, nullable=False),
    sa.Column("to_shard", sa.Integer, nullable=False),
    sa.Column("moved_at", TS, nullable=False, server_default=_now_default()),
    sa.Column("departed_at", TS, nullable=True),
    sa.Column("arrived_at", TS, nullable=True),
    sa.Index("ix_shard_moves_from", "from_shard", "departed_at"),
    sa.Index("ix_shard_moves_to", "to_shard", "arrived_at"),
)

# Partner health's evidence (store/partner_work.py). The latest reconciliation of each partner,
# whatever launched it (a clean diff stores no reconciliation_diffs rows, so this is what says
# "reconciled, 0 unexplained" rather than "never reconciled"); a newer one only ever replaces it.
partner_reconciliations = sa.Table(
    "partner_reconciliations",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("computed_at", TS, nullable=False),
    sa.Column("differences", sa.Integer, nullable=False),
    sa.Column("unexplained", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
)

# What failed for a partner and is still broken, per work: an asset over a range of months
# ('' when the asset is partitioned by partner only), a job, or a check. Only a later success of
# the same work (same asset covering those months, same job, the check passing) deletes the row.
partner_failures = sa.Table(
    "partner_failures",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("work", sa.String(200), primary_key=True),
    sa.Column("first_month", sa.String(10), primary_key=True),  # YYYY-MM-DD or ''
    sa.Column("last_month", sa.String(10), primary_key=True),
    sa.Column("job", sa.String(200), nullable=False),
    sa.Column("failed_at", TS, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
)

# A partner's recent successes per work (kept partner_work.SUCCESS_MEMORY): a failure reported
# after a later success of the same work (the failure sensor runs behind cohort runs) stays cleared.
partner_work_successes = sa.Table(
    "partner_work_successes",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("work", sa.String(200), primary_key=True),
    sa.Column("first_month", sa.String(10), primary_key=True),  # YYYY-MM-DD or ''
    sa.Column("last_month", sa.String(10), primary_key=True),
    sa.Column("succeeded_at", TS, nullable=False),
)

# When each phase (xero/phase: onboarding, incremental, reread, webhook, push, reconcile) last
# succeeded for a partner.
partner_phase_successes = sa.Table(
    "partner_phase_successes",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("phase", sa.String(32), primary_key=True),
    sa.Column("succeeded_at", TS, nullable=False),
)

partner_months = sa.Table(
    "partner_months",
    metadata,
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("landed_at", TS, nullable=False),
)

# The app-wide and per-tenant Xero call budget shared by every process: one counter per scope
# (`app:minute`, `tenant:{id}:minute`, `tenant:{id}:day`) and fixed window start (epoch seconds),
# incremented atomically before each call.
rate_windows = sa.Table(
    "rate_windows",
    metadata,
    sa.Column("scope", sa.String(100), primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("count", sa.Integer, nullable=False),
)

# --- the Alternative side ------------------------------------------------------------------

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # xero | alternative
    sa.Column("xero_contact_id", sa.String(64), nullable=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("email", sa.String(500), nullable=True),
    sa.Column("deleted_in_xero", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("xero_updated_at", TS, nullable=True),
    sa.Column("updated_at", TS, nullable=False, server_default=_now_default()),
    sa.UniqueConstraint("partner_id", "xero_contact_id", name="uq_customers_partner_xero_contact"),
)

# Platform invoice status: unpaid | partially_paid | paid | void (void only for Alternative-made ones).
invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("invoice_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # xero | alternative
    sa.Column("xero_invoice_id", sa.String(64), nullable=True),
    sa.Column("number", sa.String(255), nullable=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.customer_id"), nullable=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("issue_date", sa.Date, nullable=False),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("outstanding_minor", sa.BigInteger, nullable=False),  # Xero AmountDue for xero invoices
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("xero_status", sa.String(32), nullable=True),
    sa.Column("deleted_in_xero", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("conflict", sa.Text, nullable=True),  # a Xero change held back by a pending payment
    # The three-way rule for unpaid-invoice edits (sync.rules.three_way): the amount and due date
    # Xero last sent, so an edit made in Alternative is told apart from a change made in Xero.
    # NULL xero_total_minor = no baseline yet (Xero's values apply as they come).
    sa.Column("xero_total_minor", sa.BigInteger, nullable=True),
    sa.Column("xero_due_date", sa.Date, nullable=True),
    # Both sides changed the amount or due date: Xero won; listed in the diff until Alternative
    # edits the invoice again (invoice-edited event).
    sa.Column("edit_conflict", sa.Text, nullable=True),
    sa.Column("xero_updated_at", TS, nullable=True),
    sa.Column("updated_at", TS, nullable=False, server_default=_now_default()),
    sa.UniqueConstraint("partner_id", "xero_invoice_id", name="uq_invoices_partner_xero_invoice"),
    # One Alternative invoice per (partner, number): two concurrent invoice-created events with one
    # number cannot both insert (Xero's own invoices may repeat a number; they are not covered).
    sa.Index("uq_invoices_partner_alternative_number", "partner_id", "number", unique=True,
             sqlite_where=sa.text("source = 'alternative'"),
             postgresql_where=sa.text("source = 'alternative'")),
)

# Payments collected by Alternative (source alternative) and payments seen in Xero (source xero).
# Payment and payout ids are Alternative's, unique per partner (one partner's ids never collide
# with nor reveal another's): the keys are (partner_id, id).
payments = sa.Table(
    "payments",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("payment_id", sa.String(64), primary_key=True),  # Alternative payment id, e.g. pay_...
    sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoices.invoice_id"), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # alternative | xero
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("fee_minor", sa.BigInteger, nullable=False, server_default="0"),  # absorbed by partner
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("paid_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # succeeded | failed | refunded
    # The payout that paid this payment out: set once, by a guarded UPDATE (outbox.record_payout).
    sa.Column("payout_id", sa.String(64), nullable=True),
    sa.Column("xero_payment_id", sa.String(64), nullable=True),  # set when written to / seen in Xero
    # A refunded payment whose money a later payout took back (outbox.record_payout refund_ids).
    sa.Column("refund_payout_id", sa.String(64), nullable=True),
    sa.Column("created_at", TS, nullable=False, server_default=_now_default()),
    # Pending-payment sums per invoice (apply step) and payments per invoice (diff).
    sa.Index("ix_payments_invoice_id", "invoice_id"),
    sa.ForeignKeyConstraint(["partner_id", "payout_id"], ["payouts.partner_id", "payouts.payout_id"],
                            name="fk_payments_payout_payouts"),
)

payouts = sa.Table(
    "payouts",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("payout_id", sa.String(64), primary_key=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("gross_minor", sa.BigInteger, nullable=False),
    sa.Column("fees_minor", sa.BigInteger, nullable=False),
    sa.Column("net_minor", sa.BigInteger, nullable=False),  # what lands in the bank
    sa.Column("paid_out_on", sa.Date, nullable=False),
    sa.Column("created_at", TS, nullable=False, server_default=_now_default()),
)

# One row per intended write to Xero, inserted in the same transaction as the platform event;
# its status is a states.OutboxStatus (the state machine is described there).

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("outbox_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # payment | deposit | payout | delete_payment | delete_deposit
    sa.Column("subject_id", sa.String(64), nullable=False),  # payment_id or payout_id
    sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
    sa.Column("reference", sa.String(255), nullable=False),  # what we look up in Xero after an unknown outcome
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(32), nullable=False, server_default=OutboxStatus.PENDING.value),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("xero_ids", sa.JSON, nullable=True),  # ids Xero returned (payment, bank transaction, transfer)
    sa.Column("error", sa.Text, nullable=True),  # Xero's validation message for rejected writes
    # A write re-queued by the reconciliation diff: the done write whose result Xero lost.
    sa.Column("repairs_outbox_id", sa.Integer, nullable=True),
    sa.Column("created_at", TS, nullable=False, server_default=_now_default()),
    sa.Column("updated_at", TS, nullable=False, server_default=_now_default()),
    # Exactly once (push/): the request this row was first sent in, never changed while Xero may
    # still replay it: its Idempotency-Key and, for PUT /Payments, the batch (every payment).
    sa.Column("request_key", sa.String(128), nullable=True),
    sa.Column("request", sa.JSON, nullable=True),
    sa.Column("first_sent_at", TS, nullable=True),  # the key's window opens no earlier than this
    sa.Column("sent_at", TS, nullable=True),  # the latest send began: in flight until + bound
    sa.Column("ever_unknown", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("claimed_by", sa.String(128), nullable=True),  # the pusher holding a `sending` row
    sa.Index("ix_outbox_status_id", "status", "outbox_id"),
    # The write(s) for one payment or payout: pending-payment sums, failures, cancellations.
    sa.Index("ix_outbox_subject_id", "subject_id"),
    sa.Index("ix_outbox_repairs_outbox_id", "repairs_outbox_id", unique=True),
    sa.CheckConstraint(sa.column("status").in_([s.value for s in OutboxStatus]), name="status"),
)

# Idempotency keys of the events API (events/idempotency.py): one row per (partner, key),
# written in the transaction that records the event, holding the answer a replay gets back.
event_requests = sa.Table(
    "event_requests",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("idempotency_key", sa.String(128), primary_key=True),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("request_sha256", sa.String(64), nullable=False),  # of the event's fields
    sa.Column("answer", sa.JSON, nullable=True),  # the id the event returned
    sa.Column("created_at", TS, nullable=False, server_default=_now_default()),
)

# One writer per tenant (store/tenant_lock.py): the run holding this row is the only one calling
# Xero for the tenant; it proves it is alive with a heartbeat (and its pid on this host).
tenant_locks = sa.Table(
    "tenant_locks",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("purpose", sa.String(200), nullable=False),
    sa.Column("acquired_at", TS, nullable=False),
    sa.Column("heartbeat_at", TS, nullable=False),
)

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("category", sa.String(32), nullable=False),  # INVOICE | CONTACT | CREDITNOTE
    sa.Column("event_type", sa.String(32), nullable=False),  # CREATE | UPDATE
    sa.Column("resource_id", sa.String(64), nullable=False),
    sa.Column("event_date", TS, nullable=False),
    sa.Column("received_at", TS, nullable=False, server_default=_now_default()),
    sa.Column("processed_at", TS, nullable=True),
    # sha256 of the event's fields: a replayed delivery (same events) stores nothing new.
    sa.Column("dedupe_key", sa.String(64), nullable=True, unique=True),
    sa.Index("ix_webhook_events_tenant_received", "tenant_id", "received_at"),
)

# The latest reconciliation diff per partner (sync.reconcile.DIFF_COLUMNS), replaced on each run
# of the reconciliation_diff asset; the diff CLI and the Integrations page read it.
reconciliation_diffs = sa.Table(
    "reconciliation_diffs",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("row_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("computed_at", TS, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("subject_type", sa.String(32), nullable=False),
    sa.Column("subject_id", sa.String(255), nullable=False),
    sa.Column("platform_minor", sa.BigInteger, nullable=True),
    sa.Column("xero_minor", sa.BigInteger, nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("explained", sa.Boolean, nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
)

# --- who is signed in to the Integrations page (web/sessions.py) ------------------------------

# One row per partner: a session cookie carries the generation it was issued at and opens
# nothing once sign-out or Disconnect has bumped it (every earlier cookie of the partner ends).
partner_sessions = sa.Table(
    "partner_sessions",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.partner_id"), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", TS, nullable=False, server_default=_now_default()),
)

# The `jti` of every sign-in assertion exchanged for a session: the primary key refuses a replay,
# even two at once. Rows are kept until the assertion could no longer be accepted anyway.
signin_assertions = sa.Table(
    "signin_assertions",
    metadata,
    sa.Column("jti", sa.String(128), primary_key=True),
    sa.Column("partner_id", sa.String(64), nullable=False),
    sa.Column("expires_at", TS, nullable=False),
    sa.Column("used_at", TS, nullable=False, server_default=_now_default()),
    sa.Index("ix_signin_assertions_expires_at", "expires_at"),
)
