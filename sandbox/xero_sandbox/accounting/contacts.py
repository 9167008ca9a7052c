"""Contacts: list (IDs, includeArchived, summaryOnly, searchTerm), get, create and update."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request

from xero_sandbox import xero_json as xj
from xero_sandbox.accounting.blueprint import accounting
from xero_sandbox.accounting.reads import list_records
from xero_sandbox.accounting.responses import envelope
from xero_sandbox.accounting.writes import submitted_elements, summarize_errors, write_batch
from xero_sandbox.context import current_org
from xero_sandbox.query import split_list, truthy


_CONTACT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "ContactID": lambda c: c.contact_id, "Name": lambda c: c.name,
    "ContactStatus": lambda c: c.status, "EmailAddress": lambda c: c.email,
    "AccountNumber": lambda c: c.account_number, "IsCustomer": lambda c: c.is_customer,
    "IsSupplier": lambda c: c.is_supplier, "FirstName": lambda c: c.first_name,
    "LastName": lambda c: c.last_name, "UpdatedDateUTC": lambda c: c.updated,
}


@accounting.get("/Contacts")
def list_contacts() -> Response:
    org = current_org()
    ids = {i.lower() for i in split_list(request.args.get("IDs"))}
    archived = truthy(request.args.get("includeArchived"))
    summary = truthy(request.args.get("summaryOnly"))
    term = (request.args.get("searchTerm") or "").lower()

    def extra(c: Any) -> bool:
        return ((archived or c.status != "ARCHIVED") and (not ids or c.contact_id in ids)
                and (not term or term in c.name.lower() or term in c.email.lower()))

    with org.lock:
        rows, pagination = list_records(org.contacts.values(), _CONTACT_FIELDS,
                                        lambda c: c.contact_id, extra=extra)
        return envelope("Contacts", [xj.contact_json(c, summary) for c in rows], pagination)


@accounting.get("/Contacts/<contact_id>")
def get_contact(contact_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("Contacts", [xj.contact_json(org.get_contact(contact_id))])


@accounting.route("/Contacts", methods=["PUT", "POST"])
def write_contacts() -> Response:
    org = current_org()

    def apply(el: dict[str, Any]) -> dict[str, Any]:
        if el.get("ContactID") and el["ContactID"].lower() in org.contacts:
            changes = {k: el[x] for x, k in (("Name", "name"), ("EmailAddress", "email"),
                                              ("ContactStatus", "status")) if x in el}
            return xj.contact_json(org.update_contact(el["ContactID"].lower(), **changes))
        return xj.contact_json(org.create_contact(
            name=el.get("Name") or "", email=el.get("EmailAddress") or "",
            first_name=el.get("FirstName") or "", last_name=el.get("LastName") or "",
            account_number=el.get("AccountNumber") or ""))

    with org.lock:
        return write_batch("Contacts", submitted_elements("Contacts"), apply, summarize_errors())
