"""Write-through landing: what Xero answers for a successful write is landed at once, the way the
pull path lands it (store/landing.py, store/apply.py), so the reconciliation diff is right
straight after a push (UI mode included), not only after the next incremental pull.

- payments Xero answered (or found by reference): landed as Xero returned them;
- deleted payments: landed as DELETED;
- the invoices they touch: one targeted GET /Invoices?IDs=... for their new AmountDue and status,
  landed and applied with their payments.
Bank transactions and transfers have no landing table (the diff looks payouts up in Xero itself),
so there is nothing of theirs to land.
A failure here never fails the push (the writes are recorded already); the next pull lands them.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from xero_sync.store import apply, landing
from xero_sync.store.schema import xero_payments
from xero_sync.xero.client import XeroClient
from xero_sync.core.errors import XeroError
from xero_sync.core.records import PaymentRecord

log = logging.getLogger(__name__)


class WriteThrough:
    def __init__(self, engine: sa.Engine, client: XeroClient, partner_id: str) -> None:
        self.engine = engine
        self.client = client
        self.partner_id = partner_id
        self._payments: dict[str, PaymentRecord] = {}
        self._deleted: set[str] = set()

    def add_payment(self, result) -> None:
        if getattr(result, "record", None) is not None:
            self.add_payment_record(result.record)

    def add_payment_record(self, record: PaymentRecord) -> None:
        self._payments[record.payment_id] = record

    def add_deleted_payment(self, payment_id: str) -> None:
        self._deleted.add(payment_id)

    def flush(self) -> int:
        """Land what was collected; returns how many records were landed."""
        if not self._payments and not self._deleted:
            return 0
        try:
            return self._land()
        except (XeroError, sa.exc.SQLAlchemyError, ValueError) as exc:
            log.warning("write-through landing for %s skipped (the next pull lands it): %s",
                        self.partner_id, exc)
            return 0
        finally:
            self._payments.clear()
            self._deleted.clear()

    def _land(self) -> int:
        now = dt.datetime.fromtimestamp(self.client.clock(), tz=dt.timezone.utc)
        records = list(self._payments.values())
        with self.engine.connect() as conn:
            gone = conn.execute(sa.select(xero_payments).where(
                xero_payments.c.partner_id == self.partner_id,
                xero_payments.c.payment_id.in_(sorted(self._deleted)))).all() if self._deleted else []
        invoice_ids = sorted({r.invoice_id for r in records if r.invoice_id}
                             | {r.invoice_id for r in gone if r.invoice_id})
        invoices = self.client.invoices_by_ids(invoice_ids).records if invoice_ids else []
        with self.engine.begin() as conn:
            landing.upsert_payments(conn, self.partner_id, records, now)
            for row in gone:
                conn.execute(sa.update(xero_payments)
                             .where(xero_payments.c.partner_id == self.partner_id,
                                    xero_payments.c.payment_id == row.payment_id)
                             .values(status="DELETED", updated_at=now, pulled_at=now))
            if invoices:
                landing.upsert_invoices(conn, self.partner_id, invoices, now)
                apply.apply_invoices(conn, self.partner_id, landing.load_invoices(
                    conn, self.partner_id, ids=[i.invoice_id for i in invoices]))
            apply.apply_payments(conn, self.partner_id,
                                 landing.load_payments_on_invoices(conn, self.partner_id, invoice_ids))
        return len(records) + len(gone) + len(invoices)

