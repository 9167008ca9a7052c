"""Credit notes, overpayments and prepayments: list, get, create credit notes, and allocate any
of the three to an invoice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Response

from xero_sandbox import xero_json as xj
from xero_sandbox.accounting.blueprint import accounting
from xero_sandbox.accounting.reads import list_records
from xero_sandbox.accounting.responses import envelope, not_found
from xero_sandbox.accounting.writes import (
    element_date, element_ref, submitted_elements, summarize_errors, write_batch,
)
from xero_sandbox.context import current_org
from xero_sandbox.org import ValidationError


_DOC_FIELDS: dict[str, Callable[[Any], Any]] = {
    "Date": lambda d: d.date, "Status": lambda d: d.status, "Type": lambda d: d.type,
    "Reference": lambda d: d.reference, "Contact.ContactID": lambda d: d.contact_id,
    "Total": lambda d: d.total, "RemainingCredit": lambda d: d.remaining_credit,
    "UpdatedDateUTC": lambda d: d.updated,
}


@accounting.get("/CreditNotes")
def list_credit_notes() -> Response:
    org = current_org()
    with org.lock:
        rows, pagination = list_records(org.credit_notes.values(),
                                        {**_DOC_FIELDS, "CreditNoteID": lambda n: n.credit_note_id,
                                         "CreditNoteNumber": lambda n: n.number},
                                        lambda n: n.credit_note_id)
        return envelope("CreditNotes", [xj.credit_note_json(n, org) for n in rows], pagination)


@accounting.get("/CreditNotes/<credit_note_id>")
def get_credit_note(credit_note_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("CreditNotes", [xj.credit_note_json(org.get_credit_note(credit_note_id), org)])


@accounting.route("/CreditNotes", methods=["PUT", "POST"])
def write_credit_notes() -> Response:
    org = current_org()

    def apply(el: dict[str, Any]) -> dict[str, Any]:
        contact = element_ref(el, "Contact")
        if not contact:
            raise ValidationError("A Contact must be specified for this type of transaction")
        cid = contact.get("ContactID") or org.resolve_contact(name=contact.get("Name")).contact_id
        note = org.create_credit_note(
            contact_id=cid, lines=el.get("LineItems") or [],
            date=element_date(el, "Date", org.now().date()),
            status=el.get("Status") or "DRAFT", number=el.get("CreditNoteNumber") or None,
            reference=el.get("Reference") or "", type=el.get("Type") or "ACCRECCREDIT",
            line_amount_types=el.get("LineAmountTypes") or "Exclusive")
        return xj.credit_note_json(note, org)

    with org.lock:
        return write_batch("CreditNotes", submitted_elements("CreditNotes"), apply,
                           summarize_errors())


def _allocate(kind: str, source_id: str) -> Response:
    org = current_org()
    with org.lock:
        tables: dict[str, Mapping[str, Any]] = {
            "CREDITNOTE": org.credit_notes, "OVERPAYMENT": org.overpayments, "PREPAYMENT": org.prepayments}
        table = tables[kind]
        if source_id.lower() not in table:
            return not_found()

        def apply(el: dict[str, Any]) -> dict[str, Any]:
            if el.get("Amount") is None:
                raise ValidationError("Allocation Amount is required")
            allocation = org.allocate(kind, source_id.lower(),
                                      invoice_id=element_ref(el, "Invoice").get("InvoiceID") or "",
                                      amount=xj.parse_decimal(el["Amount"], "Amount"),
                                      date=element_date(el, "Date"))
            return xj.allocation_json(allocation, org)

        return write_batch("Allocations", submitted_elements("Allocations"), apply,
                           summarize_errors())


@accounting.put("/CreditNotes/<credit_note_id>/Allocations")
def allocate_credit_note(credit_note_id: str) -> Response:
    return _allocate("CREDITNOTE", credit_note_id)


@accounting.put("/Overpayments/<overpayment_id>/Allocations")
def allocate_overpayment(overpayment_id: str) -> Response:
    return _allocate("OVERPAYMENT", overpayment_id)


@accounting.put("/Prepayments/<prepayment_id>/Allocations")
def allocate_prepayment(prepayment_id: str) -> Response:
    return _allocate("PREPAYMENT", prepayment_id)


def _list_credits(key: str, table: Mapping[str, Any], id_field: str) -> Response:
    org = current_org()
    with org.lock:
        rows, pagination = list_records(table.values(),
                                        {**_DOC_FIELDS, id_field: lambda c: c.credit_id},
                                        lambda c: c.credit_id)
        return envelope(key, [xj.credit_json(c, org) for c in rows], pagination)


@accounting.get("/Overpayments")
def list_overpayments() -> Response:
    return _list_credits("Overpayments", current_org().overpayments, "OverpaymentID")


@accounting.get("/Overpayments/<overpayment_id>")
def get_overpayment(overpayment_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("Overpayments", [xj.credit_json(org.get_overpayment(overpayment_id), org)])


@accounting.get("/Prepayments")
def list_prepayments() -> Response:
    return _list_credits("Prepayments", current_org().prepayments, "PrepaymentID")


@accounting.get("/Prepayments/<prepayment_id>")
def get_prepayment(prepayment_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("Prepayments", [xj.credit_json(org.get_prepayment(prepayment_id), org)])
