"""What a deployment is driven with from outside, as Alternative's services and Xero users would:
a payment through the events API (until the sandbox shows it in Xero), an invoice edited in Xero
(until the webhook brought it to the store). Used by bench/push_daemon.py and the deployment's
end-to-end test; every step goes over HTTP to the running services or reads the store.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.demo.activity import ensure_demo_accounts
from xero_sync.store import connections
from xero_sync.store.schema import invoices, xero_invoices
from xero_sync.resources.xero import XeroResource
from xero_sync.sync.month_slices import utc_today

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


def post_json(url: str, body: dict, token: str | None = None, timeout: float = 10) -> Answer:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Answer(answer.status, json.loads(answer.read() or b"{}"))
    except urllib.error.HTTPError as answer:
        return Answer(answer.code, json.loads(answer.read() or b"{}"))


def get_json(url: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.loads(answer.read())


def patch_json(url: str, body: dict, timeout: float = 10) -> Answer:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="PATCH")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Answer(answer.status, json.loads(answer.read() or b"{}"))
    except urllib.error.HTTPError as answer:
        return Answer(answer.code, json.loads(answer.read() or b"{}"))


def wait_until(what: str, ready: Callable[[], bool], timeout: float, alive: Callable[[], None] = lambda: None) -> float:
    """Seconds until `ready()`; TimeoutError after `timeout`; `alive()` may raise if a service died."""
    started = time.monotonic()
    while not ready():
        alive()
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        time.sleep(POLL_SECONDS)  # the poll interval of a bounded wait on other processes
    return time.monotonic() - started


def set_up_accounts(engine: sa.Engine, partner_id: str) -> None:
    """The partner's Set Up Accounts done with the demo's accounts (as `xero-sync accounts` does),
    so its payments are written, not parked as waiting_accounts. Needs the deployment's settings
    in the environment (deploy.env)."""
    with engine.connect() as conn:
        connection = connections.require_connection(conn, partner_id)
    ensure_demo_accounts(engine, XeroResource().client_for(connection), partner_id)


def open_invoices(engine: sa.Engine, partner_id: str, count: int) -> Sequence[sa.Row]:
    """`count` of the partner's open Xero invoices (platform id, outstanding, currency), newest first."""
    i = invoices.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(i.invoice_id, i.xero_invoice_id, i.outstanding_minor, i.currency)
            .where(i.partner_id == partner_id, i.source == "xero", i.xero_status == "AUTHORISED",
                   i.outstanding_minor > 1000, i.conflict.is_(None))
            .order_by(i.invoice_id.desc()).limit(count)
        ).all()
    if len(rows) < count:
        raise RuntimeError(f"{partner_id} has {len(rows)} open Xero invoices; {count} needed")
    return rows


def unpaid_invoices(engine: sa.Engine, partner_id: str, count: int) -> Sequence[sa.Row]:
    """`count` of the partner's Xero invoices with nothing paid or credited (Xero lets a user edit
    those), oldest first (payments in these probes take the newest)."""
    i = invoices.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(i.invoice_id, i.xero_invoice_id).where(
            i.partner_id == partner_id, i.source == "xero", i.xero_status == "AUTHORISED",
            i.outstanding_minor == i.total_minor).order_by(i.invoice_id).limit(count)).all()
    if len(rows) < count:
        raise RuntimeError(f"{partner_id} has {len(rows)} unpaid Xero invoices; {count} needed")
    return rows


def take_payment(web_url: str, token: str, partner_id: str, invoice: sa.Row, payment_id: str) -> Answer:
    """Alternative reports a payment on `invoice` (a quarter of what is outstanding) through the events API."""
    amount_minor = invoice.outstanding_minor // 4
    body = {"payment_id": payment_id, "invoice_id": invoice.invoice_id,
            "amount": f"{amount_minor // 100}.{amount_minor % 100:02d}", "currency": invoice.currency,
            "paid_on": utc_today().isoformat()}
    return post_json(f"{web_url}/api/partners/{partner_id}/events/payment-taken", body, token)


def payment_in_xero(sandbox_url: str, tenant_id: str, reference: str) -> bool:
    payments = get_json(f"{sandbox_url}/_sandbox/tenants/{tenant_id}/payments")["payments"]
    return any(p["reference"] == reference and p["status"] != "DELETED" for p in payments)


def edit_due_date_in_xero(sandbox_url: str, tenant_id: str, xero_invoice_id: str, due: dt.date) -> None:
    """A Xero user moves an invoice's due date (the sandbox sends its webhook)."""
    answer = patch_json(f"{sandbox_url}/_sandbox/tenants/{tenant_id}/invoices/{xero_invoice_id}",
                        {"due_date": due.isoformat()})
    if answer.status != 200:
        raise RuntimeError(f"the sandbox refused the edit of {xero_invoice_id}: {answer.status} {answer.body}")


def due_date_in_store(engine: sa.Engine, partner_id: str, xero_invoice_id: str) -> dt.date | None:
    x = xero_invoices.c
    with engine.connect() as conn:
        return conn.execute(sa.select(x.due_date).where(x.partner_id == partner_id,
                                                        x.invoice_id == xero_invoice_id)).scalar_one_or_none()
