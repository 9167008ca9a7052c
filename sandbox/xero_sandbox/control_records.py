"""Actions a Xero *user* takes in the Xero UI, for tests and demos: /_sandbox/tenants/<tenant_id>/...

Bodies are JSON; money may be a JSON number or a string ("12.50"); dates are `YYYY-MM-DD`.
Rule violations answer 400 `{"error": "<Xero's message>"}`; an unknown tenant or record 404
`{"error": ...}`. Records are answered in Xero's JSON (`/Date(...)/` dates, numeric money) except
the summary, which gives money as strings.

POST   /contacts                           {"name", "email"?, "is_customer"?}     -> 201 Contact
POST   /contacts/<id>/archive              {}                                       -> 200 Contact
POST   /invoices                           {"contact_id", "amount" | "lines":[{description,
                                            amount, account_code}], "date"?, "due_date"?,
                                            "status"? ("AUTHORISED" default | "DRAFT"),
                                            "reference"?, "type"? ("ACCREC")}     -> 201 Invoice
PATCH  /invoices/<id>                      {"due_date"?, "date"?, "reference"?, "amount"? |
                                            "lines"?}  (blocked once paid/credited) -> 200 Invoice
POST   /invoices/<id>/void                 {}                                       -> 200 Invoice
POST   /invoices/<id>/delete               {}  (DRAFT/SUBMITTED only)               -> 200 Invoice
POST   /invoices/<id>/payments             {"amount", "date"?, "account_code"? ("090") |
                                            "account_id"?, "reference"?}           -> 201 Payment
DELETE /payments/<id>                                                               -> 200 Payment
POST   /credit-notes                       {"contact_id", "amount", "date"?,
                                            "invoice_id"?, "allocate"? (amount)}   -> 201 CreditNote
POST   /credit-notes/<id>/allocations      {"invoice_id", "amount", "date"?}       -> 201 Allocation
POST   /overpayments  | /prepayments       {"contact_id", "amount", "date"?,
                                            "account_code"? ("090"), "invoice_id"?,
                                            "allocate"? (amount)}  -> 201 {"BankTransaction",
                                                                         "Overpayment"|"Prepayment"}
POST   /overpayments/<id>/allocations      {"invoice_id", "amount", "date"?}       -> 201 Allocation
POST   /prepayments/<id>/allocations       {"invoice_id", "amount", "date"?}       -> 201 Allocation
GET    /invoices                           -> 200 {"invoices":[{id, number, contact_id, type,
                                            status, date, due_date, total, amount_due,
                                            amount_paid, amount_credited, updated}]} (strings)
GET    /invoices/<id>                      -> 200 Invoice (Xero JSON)
GET    /payments                           -> 200 {"payments":[{id, invoice_id, amount, date,
                                            status, reference, account_code}]} (strings)
GET    /accounts                           -> 200 {"accounts":[Account (Xero JSON)]}
GET    /contacts                           -> 200 {"contacts":[Contact (Xero JSON)]}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, overload

from flask import Blueprint, Response, jsonify, request

from xero_sandbox import xero_json as xj
from xero_sandbox.context import sandbox
from xero_sandbox.org import NotFound, Organisation, ValidationError

control_records = Blueprint("control_records", __name__)


class _BadRequest(Exception):
    pass


def _xero(payload: Any, status: int = 200) -> Response:
    return Response(xj.dumps(payload), status=status, mimetype="application/json")


def _org(tenant_id: str) -> Organisation:
    org = sandbox().orgs.get(tenant_id)
    if org is None:
        raise NotFound(f"unknown tenant {tenant_id}")
    return org


def _body() -> dict[str, Any]:
    raw = request.get_data()
    try:
        body = xj.loads(raw) if raw.strip() else {}  # Decimal money, never float
    except xj.BodyError as exc:
        raise _BadRequest(str(exc)) from exc
    if not isinstance(body, dict):
        raise _BadRequest("request body must be a JSON object")
    return body


@overload
def _money(body: dict[str, Any], key: str, required: Literal[True] = True) -> Decimal: ...
@overload
def _money(body: dict[str, Any], key: str, required: bool) -> Decimal | None: ...
def _money(body: dict[str, Any], key: str, required: bool = True) -> Decimal | None:
    value = body.get(key)
    if value is None:
        if required:
            raise _BadRequest(f"{key!r} is required")
        return None
    try:
        return xj.money(Decimal(str(value)))
    except InvalidOperation as exc:
        raise _BadRequest(f"{key!r} must be a number, got {value!r}") from exc


@overload
def _day(body: dict[str, Any], key: str, default: dt.date) -> dt.date: ...
@overload
def _day(body: dict[str, Any], key: str, default: None) -> dt.date | None: ...
def _day(body: dict[str, Any], key: str, default: dt.date | None) -> dt.date | None:
    value = body.get(key)
    if value in (None, ""):
        return default
    try:
        return xj.parse_date(value, key)
    except xj.BodyError as exc:
        raise _BadRequest(str(exc)) from exc


def _lines(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    if "lines" in body:
        return [{"Description": li.get("description") or "Item", "Quantity": 1,
                 "UnitAmount": _money(li, "amount"), "AccountCode": li.get("account_code") or "200"}
                for li in body["lines"]]
    amount = _money(body, "amount", required=False)
    if amount is None:
        return None
    return [{"Description": body.get("description") or "Services", "Quantity": 1,
             "UnitAmount": amount, "AccountCode": body.get("account_code") or "200"}]


@control_records.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    return Response(xj.dumps({"error": f"not found: {exc}"}), 404, mimetype="application/json")


@control_records.errorhandler(ValidationError)
def _invalid(exc: ValidationError) -> Response:
    return Response(xj.dumps({"error": str(exc)}), 400, mimetype="application/json")


@control_records.errorhandler(_BadRequest)
def _bad(exc: _BadRequest) -> Response:
    return Response(xj.dumps({"error": str(exc)}), 400, mimetype="application/json")


def _locked(tenant_id: str, action: Callable[[Organisation], Response]) -> Response:
    org = _org(tenant_id)
    with org.lock:
        return action(org)


# ---- contacts ------------------------------------------------------------------------------

@control_records.post("/<tenant_id>/contacts")
def create_contact(tenant_id: str) -> Response:
    body = _body()
    return _locked(tenant_id, lambda org: _xero(xj.contact_json(org.create_contact(
        name=body.get("name") or "", email=body.get("email") or "",
        is_customer=bool(body.get("is_customer", True)))), 201))


@control_records.post("/<tenant_id>/contacts/<contact_id>/archive")
def archive_contact(tenant_id: str, contact_id: str) -> Response:
    return _locked(tenant_id, lambda org: _xero(xj.contact_json(org.archive_contact(contact_id))))


@control_records.get("/<tenant_id>/contacts")
def list_contacts(tenant_id: str) -> Response:
    return _locked(tenant_id, lambda org: _xero(
        {"contacts": [xj.contact_json(c) for c in org.contacts.values()]}))


@control_records.get("/<tenant_id>/accounts")
def list_accounts(tenant_id: str) -> Response:
    return _locked(tenant_id, lambda org: _xero(
        {"accounts": [xj.account_json(a) for a in org.accounts.values()]}))


# ---- invoices ------------------------------------------------------------------------------

@control_records.post("/<tenant_id>/invoices")
def create_invoice(tenant_id: str) -> Response:
    body = _body()

    def act(org: Organisation) -> Response:
        today = org.now().date()
        lines = _lines(body)
        if lines is None:
            raise _BadRequest("'amount' or 'lines' is required")
        day = _day(body, "date", today) or today
        inv = org.create_invoice(
            contact_id=body.get("contact_id") or "", lines=lines, date=day,
            due_date=_day(body, "due_date", day + dt.timedelta(days=30)),
            status=body.get("status") or "AUTHORISED", type=body.get("type") or "ACCREC",
            reference=body.get("reference") or "", number=body.get("number"))
        return _xero(xj.invoice_json(inv, org), 201)

    return _locked(tenant_id, act)


@control_records.patch("/<tenant_id>/invoices/<invoice_id>")
def edit_invoice(tenant_id: str, invoice_id: str) -> Response:
    body = _body()

    def act(org: Organisation) -> Response:
        inv = org.update_invoice(
            invoice_id, lines=_lines(body), date=_day(body, "date", None),
            due_date=_day(body, "due_date", None), reference=body.get("reference"),
            status=body.get("status"))
        return _xero(xj.invoice_json(inv, org))

    return _locked(tenant_id, act)


@control_records.post("/<tenant_id>/invoices/<invoice_id>/void")
def void_invoice(tenant_id: str, invoice_id: str) -> Response:
    return _locked(tenant_id, lambda org: _xero(xj.invoice_json(org.void_invoice(invoice_id), org)))


@control_records.post("/<tenant_id>/invoices/<invoice_id>/delete")
def delete_invoice(tenant_id: str, invoice_id: str) -> Response:
    return _locked(tenant_id, lambda org: _xero(xj.invoice_json(org.delete_invoice(invoice_id), org)))


@control_records.get("/<tenant_id>/invoices/<invoice_id>")
def get_invoice(tenant_id: str, invoice_id: str) -> Response:
    return _locked(tenant_id, lambda org: _xero(xj.invoice_json(org.get_invoice(invoice_id), org)))


@control_records.get("/<tenant_id>/invoices")
def invoices_summary(tenant_id: str) -> Response:
    def act(org: Organisation) -> Response:
        rows = [{"id": i.invoice_id, "number": i.number, "contact_id": i.contact_id, "type": i.type,
                 "status": i.status, "date": i.date.isoformat(), "due_date": i.due_date.isoformat(),
                 "total": str(i.total), "amount_due": str(i.amount_due),
                 "amount_paid": str(i.amount_paid), "amount_credited": str(i.amount_credited),
                 "updated": i.updated.isoformat()} for i in org.invoices.values()]
        return jsonify({"invoices": rows})

    return _locked(tenant_id, act)


# ---- payments ------------------------------------------------------------------------------

@control_records.post("/<tenant_id>/invoices/<invoice_id>/payments")
def add_payment(tenant_id: str, invoice_id: str) -> Response:
    body = _body()

    def act(org: Organisation) -> Response:
        org.get_invoice(invoice_id)
        payment = org.add_payment(
            invoice_id=invoice_id, amount=_money(body, "amount"),
            date=_day(body, "date", org.now().date()),
            account_id=body.get("account_id"),
            account_code=None if body.get("account_id") else body.get("account_code") or "090",
            reference=body.get("reference") or "")
        return _xero(xj.payment_json(payment, org), 201)

    return _locked(tenant_id, act)


@control_records.delete("/<tenant_id>/payments/<payment_id>")
def delete_payment(tenant_id: str, payment_id: str) -> Response:
    return _locked(tenant_id, lambda org: _xero(xj.payment_json(org.delete_payment(payment_id), org)))


@control_records.get("/<tenant_id>/payments")
def payments_summary(tenant_id: str) -> Response:
    def act(org: Organisation) -> Response:
        rows = [{"id": p.payment_id, "invoice_id": p.invoice_id, "amount": str(p.amount),
                 "date": p.date.isoformat(), "status": p.status, "reference": p.reference,
                 "account_code": org.accounts[p.account_id].code} for p in org.payments.values()]
        return jsonify({"payments": rows})

    return _locked(tenant_id, act)


# ---- credits -------------------------------------------------------------------------------

def _maybe_allocate(org: Organisation, kind: str, source_id: str, body: dict[str, Any],
                    default: Decimal) -> None:
    if body.get("invoice_id"):
        amount = _money(body, "allocate", required=False) or default
        org.allocate(kind, source_id, invoice_id=body["invoice_id"], amount=amount,
                     date=_day(body, "date", None))


@control_records.post("/<tenant_id>/credit-notes")
def create_credit_note(tenant_id: str) -> Response:
    body = _body()

    def act(org: Organisation) -> Response:
        amount = _money(body, "amount")
        note = org.create_credit_note(
            contact_id=body.get("contact_id") or "", date=_day(body, "date", org.now().date()),
            lines=[{"Description": body.get("description") or "Credit", "Quantity": 1,
                    "UnitAmount": amount, "AccountCode": body.get("account_code") or "200"}])
        _maybe_allocate(org, "CREDITNOTE", note.credit_note_id, body, note.total)
        return _xero(xj.credit_note_json(note, org), 201)

    return _locked(tenant_id, act)


def _create_credit(tenant_id: str, kind: str) -> Response:
    body = _body()

    def act(org: Organisation) -> Response:
        amount = _money(body, "amount")
        txn = org.create_bank_transaction(
            type=f"RECEIVE-{kind}", bank_account_code=body.get("account_code") or "090",
            contact_id=body.get("contact_id") or "", date=_day(body, "date", org.now().date()),
            lines=[{"Description": kind.title(), "LineAmount": amount,
                    "AccountCode": "610" if kind == "OVERPAYMENT" else "620"}])
        credit_id = txn.overpayment_id or txn.prepayment_id or ""
        _maybe_allocate(org, kind, credit_id, body, txn.total)
        credit = org.overpayments.get(credit_id) or org.prepayments[credit_id]
        return _xero({"BankTransaction": xj.bank_transaction_json(txn, org),
                      kind.title(): xj.credit_json(credit, org)}, 201)

    return _locked(tenant_id, act)


@control_records.post("/<tenant_id>/overpayments")
def create_overpayment(tenant_id: str) -> Response:
    return _create_credit(tenant_id, "OVERPAYMENT")


@control_records.post("/<tenant_id>/prepayments")
def create_prepayment(tenant_id: str) -> Response:
    return _create_credit(tenant_id, "PREPAYMENT")


def _allocate(tenant_id: str, kind: str, source_id: str) -> Response:
    body = _body()

    def act(org: Organisation) -> Response:
        allocation = org.allocate(kind, source_id, invoice_id=body.get("invoice_id") or "",
                                  amount=_money(body, "amount"),
                                  date=_day(body, "date", None))
        return _xero(xj.allocation_json(allocation, org), 201)

    return _locked(tenant_id, act)


@control_records.post("/<tenant_id>/credit-notes/<source_id>/allocations")
def allocate_credit_note(tenant_id: str, source_id: str) -> Response:
    return _allocate(tenant_id, "CREDITNOTE", source_id)


@control_records.post("/<tenant_id>/overpayments/<source_id>/allocations")
def allocate_overpayment(tenant_id: str, source_id: str) -> Response:
    return _allocate(tenant_id, "OVERPAYMENT", source_id)


@control_records.post("/<tenant_id>/prepayments/<source_id>/allocations")
def allocate_prepayment(tenant_id: str, source_id: str) -> Response:
    return _allocate(tenant_id, "PREPAYMENT", source_id)


# ---- bank transactions (e.g. a payout booked behind the integration's back) ----------------

@control_records.post("/<tenant_id>/bank-transactions")
def create_bank_transaction(tenant_id: str) -> Response:
    """Body: type (RECEIVE | SPEND), bank_account_id, contact_id, date, reference and lines as
    Xero's LineItems (Description, AccountCode, LineAmount; a negative line is allowed)."""
    body = _body()

    def act(org: Organisation) -> Response:
        txn = org.create_bank_transaction(
            type=body.get("type") or "RECEIVE", bank_account_id=body.get("bank_account_id"),
            bank_account_code=body.get("bank_account_code"), contact_id=body.get("contact_id"),
            date=_day(body, "date", org.now().date()),
            reference=body.get("reference") or "", lines=body.get("lines") or [])
        return _xero(xj.bank_transaction_json(txn, org), 201)

    return _locked(tenant_id, act)


@control_records.delete("/<tenant_id>/bank-transactions/<bank_transaction_id>")
def delete_bank_transaction(tenant_id: str, bank_transaction_id: str) -> Response:
    return _locked(tenant_id, lambda org: _xero(
        xj.bank_transaction_json(org.delete_bank_transaction(bank_transaction_id), org)))
