"""Payments: list (date-indexed), get, create, and delete (the only edit Xero allows)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, request

from xero_sandbox import xero_json as xj
from xero_sandbox.accounting.blueprint import accounting
from xero_sandbox.accounting.reads import list_records
from xero_sandbox.accounting.responses import envelope
from xero_sandbox.accounting.writes import (
    element_date, element_ref, submitted_elements, summarize_errors, write_batch,
)
from xero_sandbox.context import current_org
from xero_sandbox.org import Organisation, ValidationError
from xero_sandbox.query import date_range, parse_where


def _payment_fields(org: Organisation) -> dict[str, Callable[[Any], Any]]:
    return {
        "PaymentID": lambda p: p.payment_id, "Date": lambda p: p.date, "Status": lambda p: p.status,
        "Reference": lambda p: p.reference, "PaymentType": lambda p: p.payment_type,
        "Amount": lambda p: p.amount, "IsReconciled": lambda p: p.is_reconciled,
        "UpdatedDateUTC": lambda p: p.updated, "Invoice.InvoiceID": lambda p: p.invoice_id,
        "Invoice.InvoiceNumber": lambda p: org.invoices[p.invoice_id].number,
        "Invoice.Contact.ContactID": lambda p: org.invoices[p.invoice_id].contact_id,
        "Account.AccountID": lambda p: p.account_id,
        "Account.Code": lambda p: org.accounts[p.account_id].code,
    }


@accounting.get("/Payments")
def list_payments() -> Response:
    org = current_org()
    where = request.args.get("where")
    bounds = date_range(parse_where(where), "Date") if where and where.strip() else None
    with org.lock:
        # Monthly reads slice the date index instead of testing every payment.
        records = (org.payments.values() if bounds is None else
                   [org.payments[i] for i in org.payments_by_date.ids_between(*bounds)])
        rows, pagination = list_records(records, _payment_fields(org), lambda p: p.payment_id)
        return envelope("Payments", [xj.payment_json(p, org) for p in rows], pagination)


@accounting.get("/Payments/<payment_id>")
def get_payment(payment_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("Payments", [xj.payment_json(org.get_payment(payment_id), org)])


def _apply_payment(org: Organisation, el: Mapping[str, Any]) -> dict[str, Any]:
    invoice, account = element_ref(el, "Invoice"), element_ref(el, "Account")
    if el.get("Amount") is None:
        raise ValidationError("Payment Amount is required")
    date = element_date(el, "Date")
    if date is None:
        raise ValidationError("Payment Date is required")
    payment = org.add_payment(
        amount=xj.parse_decimal(el["Amount"], "Amount"), date=date,
        invoice_id=invoice.get("InvoiceID"),
        invoice_number=invoice.get("InvoiceNumber") or el.get("InvoiceNumber"),
        account_id=account.get("AccountID"), account_code=account.get("Code") or el.get("Code"),
        reference=el.get("Reference") or "", is_reconciled=bool(el.get("IsReconciled")))
    return xj.payment_json(payment, org)


@accounting.route("/Payments", methods=["PUT", "POST"])
def write_payments() -> Response:
    org = current_org()
    with org.lock:
        elements = submitted_elements("Payments")
        if request.method == "POST":
            elements = elements[:1]
        return write_batch("Payments", elements, lambda el: _apply_payment(org, el),
                           summarize_errors())


@accounting.post("/Payments/<payment_id>")
def delete_payment(payment_id: str) -> Response:
    org = current_org()
    with org.lock:
        payment = org.get_payment(payment_id)
        elements = submitted_elements("Payments")[:1]

        def apply(el: dict[str, Any]) -> dict[str, Any]:
            if str(el.get("Status", "")).upper() != "DELETED":
                raise ValidationError("Payments can only be deleted (Status DELETED); they cannot "
                                      "be edited")
            return xj.payment_json(org.delete_payment(payment.payment_id), org)

        return write_batch("Payments", elements, apply, True)
