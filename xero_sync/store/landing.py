"""Landing: Xero records as pulled, one row per record, upserted idempotently.

An upsert writes a row only if it is new, or Xero's `UpdatedDateUTC` is newer than the stored
one, or it is the same version with different content (some Xero edits do not bump
UpdatedDateUTC; the periodic full re-read catches them). Re-landing the same data changes
nothing and an older copy never replaces a newer one. Counts are exact: PostgreSQL reports
inserted vs updated with `RETURNING (xmax = 0)`; SQLite (single writer) reads the existing keys
of the chunk first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.core.money import to_minor
from xero_sync.store.bulk import chunks, dialect_insert, in_values, pg_staged
from xero_sync.store.schema import xero_contacts, xero_credit_notes, xero_invoices, xero_payments
from xero_sync.sync.rules import XeroContact, XeroInvoice, XeroPayment
from xero_sync.core.records import ContactRecord, CreditNoteRecord, InvoiceRecord, PaymentRecord
from xero_sync.sync.month_slices import month_start


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: "UpsertCounts") -> "UpsertCounts":
        return UpsertCounts(self.inserted + other.inserted, self.updated + other.updated,
                            self.unchanged + other.unchanged)


@dataclass(frozen=True, slots=True)
class LandedCreditNote:
    credit_note_id: str
    type: str
    status: str
    contact_id: str
    date: dt.date
    currency: str
    total_minor: int
    remaining_credit_minor: int
    allocations: list[dict]  # [{"invoice_id", "amount_minor", "date" (ISO)}]
    updated_at: dt.datetime


def _upsert(conn: sa.Connection, table: sa.Table, key: str, rows: list[dict]) -> UpsertCounts:
    """Upsert rows of one partner keyed by (partner_id, `key`)."""
    if not rows:
        return UpsertCounts()
    # The same record twice in one batch: keep the newest (ON CONFLICT may touch a row once).
    newest: dict[str, dict] = {}
    for row in rows:
        kept = newest.get(row[key])
        if kept is None or row["updated_at"] >= kept["updated_at"]:
            newest[row[key]] = row
    counts = UpsertCounts(unchanged=len(rows) - len(newest))
    unique = list(newest.values())
    key_col = table.c[key]
    data_cols = [c for c in table.c if c.name not in {"partner_id", key, "pulled_at"}]
    partner_id = unique[0]["partner_id"]
    postgres = conn.dialect.name == "postgresql"
    columns = list(unique[0])

    def upsert(stmt):
        ex = stmt.excluded

        def differs(col: sa.Column) -> sa.ColumnElement[bool]:
            if isinstance(col.type, sa.JSON):  # PostgreSQL json has no equality operator
                return sa.cast(col, sa.Text).is_distinct_from(sa.cast(ex[col.name], sa.Text))
            return col.is_distinct_from(ex[col.name])

        changed = sa.or_(
            ex.updated_at > table.c.updated_at,
            sa.and_(ex.updated_at == table.c.updated_at, sa.or_(*(differs(c) for c in data_cols))),
        )
        return stmt.on_conflict_do_update(
            index_elements=[table.c.partner_id, key_col],
            set_={c.name: ex[c.name] for c in data_cols + [table.c.pulled_at]},
            where=changed,
        )

    if postgres:
        # COPY into a staging table, then one INSERT ... SELECT ... ON CONFLICT; rows the WHERE
        # left alone are not returned, so they are the unchanged ones.
        with pg_staged(conn, table, columns, unique) as staged:
            stmt = upsert(dialect_insert(conn, table).from_select(
                columns, sa.select(*(staged.c[c] for c in columns))))
            written = conn.execute(
                stmt.returning(key_col, sa.literal_column("(xmax = 0)").label("ins"))).all()
        inserted = sum(1 for r in written if r.ins)
        return counts + UpsertCounts(inserted, len(written) - inserted, len(unique) - len(written))
    # SQLite: executemany + RETURNING ("insertmanyvalues": compiled once, batched); one writer at
    # a time, so the keys read first tell inserted from updated.
    stmt = upsert(dialect_insert(conn, table)).returning(key_col)
    for chunk in chunks(unique):
        existing = set(conn.execute(
            sa.select(key_col).where(table.c.partner_id == partner_id,
                                     in_values(conn, key_col, [r[key] for r in chunk]))
        ).scalars())
        written = conn.execute(stmt, list(chunk)).all()
        inserted = sum(1 for r in written if r[0] not in existing)
        counts += UpsertCounts(inserted, len(written) - inserted, len(chunk) - len(written))
    return counts


def upsert_contacts(conn: sa.Connection, partner_id: str, records: Sequence[ContactRecord],
                    pulled_at: dt.datetime) -> UpsertCounts:
    rows = [
        {"partner_id": partner_id, "contact_id": r.contact_id, "name": r.name, "status": r.status,
         "is_customer": r.is_customer, "email": r.email, "updated_at": r.updated_at,
         "pulled_at": pulled_at}
        for r in records
    ]
    return _upsert(conn, xero_contacts, "contact_id", rows)


def upsert_invoices(conn: sa.Connection, partner_id: str, records: Sequence[InvoiceRecord],
                    pulled_at: dt.datetime) -> UpsertCounts:
    rows = []
    for r in records:
        cur = r.currency_code
        rows.append({
            "partner_id": partner_id, "invoice_id": r.invoice_id, "invoice_number": r.invoice_number,
            "type": r.type, "status": r.status, "contact_id": r.contact_id, "month": month_start(r.date),
            "date": r.date, "due_date": r.due_date, "currency": cur,
            "total_minor": to_minor(r.total, cur), "amount_due_minor": to_minor(r.amount_due, cur),
            "amount_paid_minor": to_minor(r.amount_paid, cur),
            "amount_credited_minor": to_minor(r.amount_credited, cur),
            "updated_at": r.updated_at, "pulled_at": pulled_at,
        })
    return _upsert(conn, xero_invoices, "invoice_id", rows)


def upsert_payments(conn: sa.Connection, partner_id: str, records: Sequence[PaymentRecord],
                    pulled_at: dt.datetime) -> UpsertCounts:
    """Payments without a currency (Xero omits it on some) are scaled with 2 decimals (USD/CAD)."""
    rows = [
        {"partner_id": partner_id, "payment_id": r.payment_id, "invoice_id": r.invoice_id,
         "month": month_start(r.date), "date": r.date, "currency": r.currency_code,
         "amount_minor": to_minor(r.amount, r.currency_code or "USD"), "status": r.status,
         "reference": r.reference, "account_id": r.account_id, "updated_at": r.updated_at,
         "pulled_at": pulled_at,
         "currency_rate": None if r.currency_rate is None else str(r.currency_rate)}
        for r in records
    ]
    return _upsert(conn, xero_payments, "payment_id", rows)


def upsert_credit_notes(conn: sa.Connection, partner_id: str, records: Sequence[CreditNoteRecord],
                        pulled_at: dt.datetime) -> UpsertCounts:
    rows = []
    for r in records:
        cur = r.currency_code
        allocations = [
            {"invoice_id": a.invoice_id, "amount_minor": to_minor(a.amount, cur), "date": a.date.isoformat()}
            for a in r.allocations
        ]
        rows.append({
            "partner_id": partner_id, "credit_note_id": r.credit_note_id, "type": r.type,
            "status": r.status, "contact_id": r.contact_id, "month": month_start(r.date), "date": r.date,
            "currency": cur, "total_minor": to_minor(r.total, cur),
            "remaining_credit_minor": to_minor(r.remaining_credit, cur), "allocations": allocations,
            "updated_at": r.updated_at, "pulled_at": pulled_at,
        })
    return _upsert(conn, xero_credit_notes, "credit_note_id", rows)


# --- loading landed rows for the apply step ------------------------------------------------


def _filtered(conn: sa.Connection, table: sa.Table, key: str, partner_id: str,
              months: Iterable[dt.date] | None, ids: Iterable[str] | None,
              include_earlier: bool = False, include_later: bool = False) -> sa.Select:
    query = sa.select(table).where(table.c.partner_id == partner_id).order_by(table.c[key])
    if months is not None:
        wanted = sorted({month_start(m) for m in months})
        in_window: list[sa.ColumnElement[bool]] = [table.c.month.in_(wanted)]
        # The oldest partition also holds everything dated before it, the current month
        # everything dated after it (future-dated invoices): open-ended windows.
        if include_earlier and wanted:
            in_window.append(table.c.month < wanted[0])
        if include_later and wanted:
            in_window.append(table.c.month > wanted[-1])
        query = query.where(sa.or_(*in_window))
    if ids is not None:
        query = query.where(in_values(conn, table.c[key], list(ids)))
    return query


def load_invoices(conn: sa.Connection, partner_id: str, months: Iterable[dt.date] | None = None,
                  ids: Iterable[str] | None = None, include_earlier: bool = False,
                  include_later: bool = False) -> list[XeroInvoice]:
    """Landed invoices of the partner, optionally only those months and/or those InvoiceIDs."""
    return [
        XeroInvoice(
            xero_invoice_id=r.invoice_id, number=r.invoice_number, type=r.type, status=r.status,
            contact_id=r.contact_id, currency=r.currency, issue_date=r.date, due_date=r.due_date,
            total_minor=r.total_minor, amount_due_minor=r.amount_due_minor,
            amount_paid_minor=r.amount_paid_minor, amount_credited_minor=r.amount_credited_minor,
            updated_at=r.updated_at,
        )
        for r in conn.execute(_filtered(conn, xero_invoices, "invoice_id", partner_id, months, ids,
                                        include_earlier, include_later))
    ]


def load_contacts(conn: sa.Connection, partner_id: str, ids: Iterable[str] | None = None,
                  updated_before: dt.datetime | dt.date | None = None,
                  updated_from: dt.datetime | dt.date | None = None) -> list[XeroContact]:
    """Landed contacts; contacts have no Date, so month slices select them by UpdatedDateUTC."""
    query = _filtered(conn, xero_contacts, "contact_id", partner_id, None, ids)
    if updated_from is not None:
        query = query.where(xero_contacts.c.updated_at >= _utc(updated_from))
    if updated_before is not None:
        query = query.where(xero_contacts.c.updated_at < _utc(updated_before))
    return [
        XeroContact(contact_id=r.contact_id, name=r.name, email=r.email, status=r.status,
                    is_customer=r.is_customer, updated_at=r.updated_at)
        for r in conn.execute(query)
    ]


def _utc(moment: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(moment, dt.datetime):
        return moment.astimezone(dt.timezone.utc)
    return dt.datetime(moment.year, moment.month, moment.day, tzinfo=dt.timezone.utc)


def load_payments(conn: sa.Connection, partner_id: str, months: Iterable[dt.date] | None = None,
                  ids: Iterable[str] | None = None, include_earlier: bool = False,
                  include_later: bool = False) -> list[XeroPayment]:
    return [
        XeroPayment(payment_id=r.payment_id, invoice_id=r.invoice_id, date=r.date,
                    amount_minor=r.amount_minor, currency=r.currency, status=r.status,
                    reference=r.reference, updated_at=r.updated_at)
        for r in conn.execute(_filtered(conn, xero_payments, "payment_id", partner_id, months, ids,
                                        include_earlier, include_later))
    ]


def load_credit_notes(conn: sa.Connection, partner_id: str, months: Iterable[dt.date] | None = None,
                      ids: Iterable[str] | None = None) -> list[LandedCreditNote]:
    return [
        LandedCreditNote(
            credit_note_id=r.credit_note_id, type=r.type, status=r.status, contact_id=r.contact_id,
            date=r.date, currency=r.currency, total_minor=r.total_minor,
            remaining_credit_minor=r.remaining_credit_minor, allocations=list(r.allocations),
            updated_at=r.updated_at,
        )
        for r in conn.execute(_filtered(conn, xero_credit_notes, "credit_note_id", partner_id, months, ids))
    ]


def load_payments_on_invoices(conn: sa.Connection, partner_id: str, invoice_ids: Iterable[str]) -> list[XeroPayment]:
    """Landed payments on these invoices, whatever month they are dated in.

    A payment can land (its month pulled) before its invoice (an older month) is synced; it is
    applied again when the invoice arrives, so the order months are pulled in does not matter.
    """
    ids = list(invoice_ids)
    if not ids:
        return []
    query = (sa.select(xero_payments)
             .where(xero_payments.c.partner_id == partner_id, in_values(conn, xero_payments.c.invoice_id, ids))
             .order_by(xero_payments.c.payment_id))
    return [
        XeroPayment(payment_id=r.payment_id, invoice_id=r.invoice_id, date=r.date,
                    amount_minor=r.amount_minor, currency=r.currency, status=r.status,
                    reference=r.reference, updated_at=r.updated_at)
        for r in conn.execute(query)
    ]
