"""Apply landed Xero records to the Alternative side (SPEC section 2), in bulk.

Each `apply_*` reads the platform's current rows for the whole batch in one query, asks the pure
rules in `xero_sync.sync.rules` what changes, and writes inserts as multi-row INSERTs and updates
as one executemany per column set: no per-record round trips. Re-applying the same batch changes
nothing (the rules answer "unchanged"). The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import sqlalchemy as sa

from xero_sync.store.bulk import chunks, dialect_insert, in_values, pg_copy, pg_staged
from xero_sync.store.landing import load_contacts
from xero_sync.store.outbox import WRITE_KINDS
from xero_sync.store.schema import customers, invoices, outbox, payments
from xero_sync.store.states import OutboxStatus
from xero_sync.sync.rules import (
    PlatformCustomer,
    PlatformInvoice,
    XeroContact,
    XeroInvoice,
    XeroPayment,
    reconcile_customer,
    reconcile_invoice,
    reconcile_payment,
)

class _Versioned(Protocol):
    @property
    def updated_at(self) -> dt.datetime: ...


R = TypeVar("R", bound=_Versioned)
XERO_PAYMENT_PREFIX = "xero_"
# An Alternative payment is "applied in Xero" only once its write is done; a cancelled write
# belongs to a failed payment, which the status filter already drops.
_NOT_APPLIED = (OutboxStatus.PENDING, OutboxStatus.WAITING_ACCOUNTS, OutboxStatus.SENDING, OutboxStatus.UNKNOWN,
                OutboxStatus.REJECTED)


@dataclass(frozen=True, slots=True)
class ApplyCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    conflicts: int = 0  # inserts/updates whose values hold a conflict for the diff
    ours: int = 0  # Xero payments Alternative wrote itself (never counted twice)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _newest(records: Iterable[R], key: str) -> list[R]:
    """One record per id, the newest version (a batch may hold a record twice)."""
    kept: dict[str, R] = {}
    for record in records:
        rid = getattr(record, key)
        if rid not in kept or record.updated_at >= kept[rid].updated_at:
            kept[rid] = record
    return list(kept.values())


def _insert_many(conn: sa.Connection, table: sa.Table, rows: list[dict], conflict_cols: list[str]) -> int:
    """Insert mappings (grouped by their keys); returns how many rows were inserted."""
    groups: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
    for row in rows:
        groups[tuple(row)].append(tuple(row.values()))
    return sum(_insert_rows(conn, table, cols, group, conflict_cols) for cols, group in groups.items())


def _insert_rows(conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple],
                 conflict_cols: list[str]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING of tuples in `columns` order (a concurrent apply may have
    inserted the same row); returns how many rows were inserted."""
    if not rows:
        return 0
    conflict = [table.c[c] for c in conflict_cols]
    if conn.dialect.name == "postgresql":
        # The caller read the current rows in this transaction and inserts only missing ones, so
        # a conflict can only come from a concurrent apply: COPY straight into the table under a
        # savepoint (the fast path, no staging), and only if that hits the unique key fall back
        # to the staged INSERT ... ON CONFLICT DO NOTHING below.
        from psycopg.errors import UniqueViolation

        try:
            with conn.begin_nested():
                pg_copy(conn, table, columns, rows)
            return len(rows)
        except UniqueViolation:
            pass
        # COPY into staging + one INSERT ... SELECT ... RETURNING inside a CTE that counts the
        # inserted rows on the server (conflicting ones are not returned): one row comes back.
        with pg_staged(conn, table, columns, rows) as staged:
            inserted = (
                dialect_insert(conn, table)
                .from_select(list(columns), sa.select(*(staged.c[c] for c in columns)))
                .on_conflict_do_nothing(index_elements=conflict)
                .returning(conflict[-1])
                .cte("inserted")
            )
            return conn.execute(sa.select(sa.func.count()).select_from(inserted)).scalar_one()
    # executemany + RETURNING: SQLAlchemy's "insertmanyvalues" compiles once and sends batched
    # multi-row INSERTs; the returned rows are exactly the inserted ones.
    stmt = dialect_insert(conn, table).on_conflict_do_nothing(index_elements=conflict).returning(conflict[-1])
    inserted = 0
    for chunk in chunks(rows):
        inserted += len(conn.execute(stmt, [dict(zip(columns, r)) for r in chunk]).all())
    return inserted


def _update_many(conn: sa.Connection, table: sa.Table, key: str, updates: list[tuple[object, Mapping[str, object]]],
                 partner_id: str | None = None) -> None:
    """UPDATE by primary key (within `partner_id`'s rows when given), one statement per
    distinct set of columns."""
    groups: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
    for row_id, values in updates:
        groups[tuple(values)].append((row_id, *values.values()))
    for cols, rows in groups.items():
        _update_rows(conn, table, key, cols, rows, partner_id)


def _update_rows(conn: sa.Connection, table: sa.Table, key: str, columns: Sequence[str], rows: list[tuple],
                 partner_id: str | None = None) -> None:
    """UPDATE by primary key `key` (and `partner_id` when the key is the partner's own, as
    payment ids are); each row is (key value, *values in `columns` order)."""
    if not rows:
        return
    scope = sa.true() if partner_id is None else table.c.partner_id == partner_id
    if conn.dialect.name == "postgresql":
        # COPY the new values in, then one UPDATE ... FROM the staging table.
        with pg_staged(conn, table, [key, *columns], rows) as staged:
            conn.execute(
                sa.update(table).where(table.c[key] == staged.c[key], scope)
                .values({c: staged.c[c] for c in columns})
            )
        return
    stmt = (
        sa.update(table)
        .where(table.c[key] == sa.bindparam("b_key", type_=table.c[key].type), scope)
        .values({c: sa.bindparam(f"b_{c}", type_=table.c[c].type) for c in columns})
    )
    names = ["b_key", *(f"b_{c}" for c in columns)]
    for chunk in chunks(rows):
        conn.execute(stmt, [dict(zip(names, r)) for r in chunk])


# --- customers -----------------------------------------------------------------------------


def _customers_by_contact(conn: sa.Connection, partner_id: str, contact_ids: Sequence[str]) -> dict[str, sa.Row]:
    if not contact_ids:
        return {}
    c = customers.c
    rows = conn.execute(
        sa.select(c.customer_id, c.xero_contact_id, c.name, c.email, c.deleted_in_xero, c.archived,
                  c.xero_updated_at)
        .where(c.partner_id == partner_id, in_values(conn, c.xero_contact_id, contact_ids))
    )
    return {r.xero_contact_id: r for r in rows}


def _platform_customer(row: sa.Row) -> PlatformCustomer:
    return PlatformCustomer(
        customer_id=row.customer_id, xero_contact_id=row.xero_contact_id, name=row.name,
        email=row.email, deleted_in_xero=row.deleted_in_xero, archived=row.archived,
        xero_updated_at=row.xero_updated_at,
    )


def apply_contacts(conn: sa.Connection, partner_id: str, contacts: Sequence[XeroContact]) -> ApplyCounts:
    """Customers from Xero contacts: customers, and contacts of synced invoices (stubs filled in)."""
    batch = _newest(contacts, "contact_id")
    duplicates = len(contacts) - len(batch)
    current = _customers_by_contact(conn, partner_id, [x.contact_id for x in batch])
    with_invoice: set[int] = set()
    if current:
        ids = [str(r.customer_id) for r in current.values()]
        with_invoice = set(conn.execute(
            sa.select(invoices.c.customer_id).distinct()
            .where(invoices.c.partner_id == partner_id, invoices.c.source == "xero",
                   in_values(conn, sa.cast(invoices.c.customer_id, sa.String), ids))
        ).scalars())
    inserts: list[dict] = []
    updates: list[tuple[object, Mapping[str, object]]] = []
    counts = defaultdict(int, unchanged=duplicates)
    for contact in batch:
        row = current.get(contact.contact_id)
        change = reconcile_customer(
            contact, None if row is None else _platform_customer(row),
            has_synced_invoice=row is not None and row.customer_id in with_invoice,
        )
        if change.kind == "insert":
            inserts.append({"partner_id": partner_id, "source": "xero",
                            "xero_contact_id": contact.contact_id, **change.values})
        elif change.kind == "update":
            assert row is not None  # the rules update only a customer that exists
            updates.append((row.customer_id, {**change.values, "updated_at": _now()}))
        counts[change.kind] += 1
    if inserts:
        inserted = _insert_many(conn, customers, inserts, ["partner_id", "xero_contact_id"])
        counts["unchanged"] += len(inserts) - inserted  # a concurrent apply created them first
        counts["insert"] = inserted
    _update_many(conn, customers, "customer_id", updates)
    return ApplyCounts(inserted=counts["insert"], updated=counts["update"],
                       unchanged=counts["unchanged"], skipped=counts["skip"])


def _ensure_customers(conn: sa.Connection, partner_id: str, contact_ids: set[str]) -> dict[str, int]:
    """customer_id per Xero contact, creating stubs for contacts not applied yet.

    A stub takes the landed contact if there is one, else a placeholder name; it has no
    xero_updated_at, so the contact's next apply fills it in.
    """
    found = {k: r.customer_id for k, r in _customers_by_contact(conn, partner_id, sorted(contact_ids)).items()}
    missing = sorted(contact_ids - set(found))
    if not missing:
        return found
    landed = {c.contact_id: c for c in load_contacts(conn, partner_id, ids=missing)}
    stubs = []
    for contact_id in missing:
        values: Mapping[str, object] = {"name": f"Xero contact {contact_id}", "email": None,
                                        "deleted_in_xero": False, "xero_updated_at": None}
        if contact_id in landed:
            change = reconcile_customer(landed[contact_id], None, has_synced_invoice=True)
            if change.kind == "insert":
                values = change.values
        stubs.append({"partner_id": partner_id, "source": "xero", "xero_contact_id": contact_id, **values})
    _insert_many(conn, customers, stubs, ["partner_id", "xero_contact_id"])
    found.update({k: r.customer_id for k, r in _customers_by_contact(conn, partner_id, missing).items()})
    return found


# --- invoices ------------------------------------------------------------------------------


def _pending_payments(partner_id: str) -> sa.Subquery:
    """Per platform invoice: Alternative payments whose write to Xero is not done."""
    p = payments.c
    return (
        sa.select(p.invoice_id, sa.func.sum(p.amount_minor).label("pending_minor"))
        .select_from(payments.join(
            outbox, sa.and_(outbox.c.subject_id == p.payment_id, outbox.c.kind.in_(WRITE_KINDS),
                            outbox.c.partner_id == p.partner_id)))
        .where(p.partner_id == partner_id, p.source == "alternative", p.status == "succeeded",
               outbox.c.status.in_(_NOT_APPLIED))
        .group_by(p.invoice_id)
        .subquery("pending")
    )


def load_platform_invoices(conn: sa.Connection, partner_id: str, xero_invoice_ids: Sequence[str]) -> dict[str, tuple[PlatformInvoice, int | None]]:
    """Current platform state (and customer_id) per Xero InvoiceID, in one query."""
    if not xero_invoice_ids:
        return {}
    i = invoices.c
    pending = _pending_payments(partner_id)
    query = (
        sa.select(i.invoice_id, i.xero_invoice_id, i.status, i.xero_status, i.total_minor,
                  i.outstanding_minor, i.due_date, i.deleted_in_xero, i.archived, i.xero_updated_at,
                  i.customer_id, sa.func.coalesce(pending.c.pending_minor, 0).label("pending_minor"),
                  i.xero_total_minor, i.xero_due_date)
        .select_from(invoices.outerjoin(pending, pending.c.invoice_id == i.invoice_id))
        .where(i.partner_id == partner_id, in_values(conn, i.xero_invoice_id, xero_invoice_ids))
    )
    # Positional construction from plain tuples: this runs once per invoice of the batch.
    return {
        r[1]: (PlatformInvoice(*r[:10], int(r[11]), r[12], r[13]), r[10])
        for r in conn.execute(query).all()
    }


def apply_invoices(conn: sa.Connection, partner_id: str, xero_invoices: Sequence[XeroInvoice]) -> ApplyCounts:
    """Platform invoices from landed Xero invoices (sales invoices once approved; see rules)."""
    batch = _newest(xero_invoices, "xero_invoice_id")
    counts = defaultdict(int, unchanged=len(xero_invoices) - len(batch))
    current = load_platform_invoices(conn, partner_id, [x.xero_invoice_id for x in batch])
    decided = []
    for x in batch:
        state, customer_id = current.get(x.xero_invoice_id, (None, None))
        change = reconcile_invoice(x, state)
        counts[change.kind] += 1
        if change.kind in ("insert", "update"):
            decided.append((x, state, customer_id, change))
            counts["conflicts"] += bool(change.conflict or change.values.get("conflict"))
    if not decided:
        return _invoice_counts(counts)

    customer_ids = _ensure_customers(
        conn, partner_id, {x.contact_id for x, _, _, c in decided if c.kind == "insert" or "status" in c.values}
    )
    # Rows are built as tuples grouped by their column set (the rules' `values` keys): the bulk
    # writers take them as they are, with no per-row dicts in between.
    inserts: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
    updates: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
    now = _now()
    for x, state, customer_id, change in decided:
        values = change.values
        if change.kind == "insert":
            inserts[("partner_id", "source", "xero_invoice_id", "customer_id", *values)].append(
                (partner_id, "xero", x.xero_invoice_id, customer_ids[x.contact_id], *values.values()))
            continue
        assert state is not None  # the rules update only an invoice that exists
        wanted = customer_ids.get(x.contact_id)
        if wanted is not None and wanted != customer_id:  # contact changed in Xero
            updates[(*values, "updated_at", "customer_id")].append((state.invoice_id, *values.values(), now, wanted))
        else:
            updates[(*values, "updated_at")].append((state.invoice_id, *values.values(), now))
    counts["insert"] = 0  # counted again below as rows actually inserted
    for cols, rows in inserts.items():
        inserted = _insert_rows(conn, invoices, cols, rows, ["partner_id", "xero_invoice_id"])
        counts["unchanged"] += len(rows) - inserted
        counts["insert"] += inserted
    for cols, rows in updates.items():
        _update_rows(conn, invoices, "invoice_id", cols, rows)
    return _invoice_counts(counts)


def _invoice_counts(counts: Mapping[str, int]) -> ApplyCounts:
    return ApplyCounts(inserted=counts["insert"], updated=counts["update"], unchanged=counts["unchanged"],
                       skipped=counts["skip"], conflicts=counts["conflicts"])


# --- payments ------------------------------------------------------------------------------


def apply_payments(conn: sa.Connection, partner_id: str, xero_payments: Sequence[XeroPayment]) -> ApplyCounts:
    """Xero-side payments on synced invoices, as payments rows "xero_" + PaymentID.

    A Xero payment Alternative wrote (PaymentID stored on an Alternative payment, or Reference =
    an Alternative payment id) is "ours" and never recorded twice; if it was found by reference
    only (a write whose response was lost), its PaymentID is stored on the Alternative payment.
    """
    batch = _newest(xero_payments, "payment_id")
    counts = defaultdict(int, unchanged=len(xero_payments) - len(batch))
    if not batch:
        return ApplyCounts(unchanged=counts["unchanged"])
    p, i = payments.c, invoices.c
    xero_ids = [x.payment_id for x in batch]
    invoice_ids = sorted({x.invoice_id for x in batch if x.invoice_id})
    synced = {
        r.xero_invoice_id: r
        for r in conn.execute(
            sa.select(i.invoice_id, i.xero_invoice_id, i.currency)
            .where(i.partner_id == partner_id, in_values(conn, i.xero_invoice_id, invoice_ids))
        )
    } if invoice_ids else {}
    references = sorted({x.reference for x in batch if x.reference})
    mine = sa.or_(in_values(conn, p.xero_payment_id, xero_ids),
                  in_values(conn, p.payment_id, references)) if references else in_values(conn, p.xero_payment_id, xero_ids)
    ours_rows = conn.execute(
        sa.select(p.payment_id, p.xero_payment_id)
        .where(p.partner_id == partner_id, p.source == "alternative", mine)
    ).all()
    ours_by_xero_id = {r.xero_payment_id for r in ours_rows if r.xero_payment_id}
    ours_by_ref = {r.payment_id: r.xero_payment_id for r in ours_rows}
    existing = dict(conn.execute(
        sa.select(p.payment_id, p.status)
        .where(p.partner_id == partner_id,
               in_values(conn, p.payment_id, [XERO_PAYMENT_PREFIX + x for x in xero_ids]))
    ).all())

    inserts: list[dict[str, object]] = []
    updates: list[tuple[object, Mapping[str, object]]] = []
    learned: list[tuple[object, Mapping[str, object]]] = []
    for x in batch:
        row_id = XERO_PAYMENT_PREFIX + x.payment_id
        invoice = synced.get(x.invoice_id) if x.invoice_id else None
        by_ref = x.reference in ours_by_ref
        change = reconcile_payment(
            x, invoice_synced=invoice is not None, ours=x.payment_id in ours_by_xero_id or by_ref,
            current_status=existing.get(row_id),
        )
        counts[change.kind] += 1
        if change.kind == "ours":
            if by_ref and ours_by_ref[x.reference] is None:
                learned.append((x.reference, {"xero_payment_id": x.payment_id}))
            continue
        if change.kind not in ("insert", "update"):
            continue
        assert invoice is not None  # the rules insert or update only a synced invoice's payment
        values = dict(change.values)
        if values.get("currency") is None:
            values["currency"] = invoice.currency  # Xero omitted it: the invoice's currency
        if change.kind == "insert":
            inserts.append({"payment_id": row_id, "partner_id": partner_id, "invoice_id": invoice.invoice_id,
                            "source": "xero", "fee_minor": 0, "xero_payment_id": x.payment_id, **values})
        else:
            updates.append((row_id, values))
    if inserts:
        inserted = _insert_many(conn, payments, inserts, ["partner_id", "payment_id"])
        counts["unchanged"] += len(inserts) - inserted
        counts["insert"] = inserted
    _update_many(conn, payments, "payment_id", updates + learned, partner_id)
    return ApplyCounts(inserted=counts["insert"], updated=counts["update"], unchanged=counts["unchanged"],
                       skipped=counts["skip"], ours=counts["ours"])
