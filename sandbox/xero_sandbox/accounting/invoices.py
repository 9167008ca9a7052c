"""Invoices: list (answered from the Date and UpdatedDateUTC indexes, with JSON cached per
invoice), get, create, and update by id."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from functools import partial
from operator import attrgetter
from typing import Any

from flask import Response, request

from xero_sandbox import xero_json as xj
from xero_sandbox.accounting.blueprint import accounting
from xero_sandbox.accounting.reads import cached_json
from xero_sandbox.accounting.responses import envelope, not_found
from xero_sandbox.accounting.writes import (
    element_ref, submitted_elements, summarize_errors, write_batch,
)
from xero_sandbox.context import current_org
from xero_sandbox.org import Organisation, ValidationError
from xero_sandbox.query import (
    compile_ast, date_range, page_args, paginate, parse_if_modified_since, parse_where,
    sort_records, split_list, truthy,
)


def _invoice_fields(org: Organisation) -> dict[str, Callable[[Any], Any]]:
    return {
        "InvoiceID": lambda i: i.invoice_id, "InvoiceNumber": lambda i: i.number,
        "Type": lambda i: i.type, "Status": lambda i: i.status, "Date": lambda i: i.date,
        "DueDate": lambda i: i.due_date, "Reference": lambda i: i.reference,
        "Contact.ContactID": lambda i: i.contact_id,
        "Contact.Name": lambda i: org.contacts[i.contact_id].name,
        "UpdatedDateUTC": lambda i: i.updated, "AmountDue": lambda i: i.amount_due,
        "AmountPaid": lambda i: i.amount_paid, "AmountCredited": lambda i: i.amount_credited,
        "Total": lambda i: i.total, "SubTotal": lambda i: i.sub_total,
        "CurrencyCode": lambda i: i.currency_code, "FullyPaidOnDate": lambda i: i.fully_paid_on,
    }


@accounting.get("/Invoices")
def list_invoices() -> Response:
    org = current_org()
    args = request.args
    statuses = {s.upper() for s in split_list(args.get("Statuses"))}
    ids = {i.lower() for i in split_list(args.get("IDs"))}
    numbers = set(split_list(args.get("InvoiceNumbers")))
    contacts = {i.lower() for i in split_list(args.get("ContactIDs"))}
    summary = truthy(args.get("summaryOnly"))
    fields = _invoice_fields(org)
    where = args.get("where")
    tree = parse_where(where) if where and where.strip() else None
    pred = compile_ast(tree, fields, where or "") if tree is not None else None
    since = parse_if_modified_since(request.headers.get("If-Modified-Since"))
    with org.lock:
        bounds = date_range(tree, "Date") if tree is not None else None
        if ids:
            candidates = [org.invoices[i] for i in ids if i in org.invoices]
            presorted = False
        elif bounds is not None:
            # Date-indexed slice (monthly partitions), then back to UpdatedDateUTC order.
            candidates = [org.invoices[i] for i in org.invoices_by_date.ids_between(*bounds)]
            presorted = False
        elif since is not None:
            items = org.invoices_by_updated.items
            start = bisect.bisect_right(items, (since, "\uffff"))
            candidates = [org.invoices[i] for _, i in items[start:]]
            presorted = True
        else:
            candidates = [org.invoices[i] for _, i in org.invoices_by_updated.items]
            presorted = True
        rows = [inv for inv in candidates
                if (pred is None or pred(inv)) and (since is None or inv.updated > since)
                and (not statuses or inv.status in statuses)
                and (not numbers or inv.number in numbers)
                and (not contacts or inv.contact_id in contacts)]
        order = args.get("order")
        if order or not presorted:
            if order:
                rows = sort_records(rows, order, fields, lambda i: i.invoice_id, lambda i: i.updated)
            else:
                rows.sort(key=attrgetter("updated", "invoice_id"))
        page, pagination = paginate(rows, page_args(args.get("page"), args.get("pageSize")))
        gen = org.contact_json_generation
        variant = "summary" if summary else "full"
        fragments = [cached_json(inv, variant, partial(xj.invoice_json, inv, org, summary), gen)
                     for inv in page]
        return envelope("Invoices", fragments, pagination)


@accounting.get("/Invoices/<invoice_id>")
def get_invoice(invoice_id: str) -> Response:
    org = current_org()
    with org.lock:
        inv = org.invoices.get(invoice_id.lower()) or org.invoice_by_number(invoice_id)
        if inv is None:
            return not_found()
        return envelope("Invoices", [xj.invoice_json(inv, org)])


def _invoice_kwargs(org: Organisation, el: Mapping[str, Any]) -> dict[str, Any]:
    contact = element_ref(el, "Contact")
    kwargs: dict[str, Any] = {}
    if contact:
        cid = contact.get("ContactID")
        kwargs["contact_id"] = cid if cid else org.resolve_contact(name=contact.get("Name")).contact_id
    if "LineItems" in el:
        kwargs["lines"] = el["LineItems"] or []
    for key, name in (("Date", "date"), ("DueDate", "due_date")):
        if el.get(key):
            kwargs[name] = xj.parse_date(el[key], key)
    if el.get("Status"):
        kwargs["status"] = el["Status"]
    if "Reference" in el:
        kwargs["reference"] = el.get("Reference") or ""
    return kwargs


@accounting.route("/Invoices", methods=["PUT", "POST"])
def write_invoices() -> Response:
    org = current_org()

    def apply(el: dict[str, Any]) -> dict[str, Any]:
        kwargs = _invoice_kwargs(org, el)
        existing = el.get("InvoiceID")
        if existing:
            if existing.lower() not in org.invoices:
                raise ValidationError(f"Invoice with InvoiceID {existing} could not be found")
            return xj.invoice_json(org.update_invoice(existing.lower(), **kwargs), org)
        if "contact_id" not in kwargs:
            raise ValidationError("A Contact must be specified for this type of transaction")
        kwargs.setdefault("date", org.now().date())
        kwargs.setdefault("lines", [])
        inv = org.create_invoice(
            type=el.get("Type") or "ACCREC", number=el.get("InvoiceNumber") or None,
            line_amount_types=el.get("LineAmountTypes") or "Exclusive", **kwargs)
        return xj.invoice_json(inv, org)

    with org.lock:
        return write_batch("Invoices", submitted_elements("Invoices"), apply, summarize_errors())


@accounting.post("/Invoices/<invoice_id>")
def update_invoice(invoice_id: str) -> Response:
    org = current_org()
    with org.lock:
        if invoice_id.lower() not in org.invoices:
            return not_found()
        elements = submitted_elements("Invoices")[:1]
        for el in elements:
            el.setdefault("InvoiceID", invoice_id)
        return write_batch("Invoices", elements,
                           lambda el: xj.invoice_json(org.update_invoice(
                               invoice_id.lower(), **_invoice_kwargs(org, el)), org),
                           summarize_errors())
