"""The sandbox's Accounting API: what Xero serves under /api.xro/2.0.

A Blueprint over the request's Organisation (`current_org()`, set by the server after auth).
Responses use Xero's wrappers (`{"Id","Status","ProviderName","DateTimeUTC","Invoices":[...]}`),
validation failures Xero's 400 `Error` shape (or 200 with per-element StatusAttributeString when
`summarizeErrors=false`), and unknown ids the plain-text 404 Xero sends. A summarised batch is
all or nothing: an element of the wrong shape (body_checks.py) refuses it before anything is
applied, and a rule broken by a later element restores the organisation as it was.
"""

from __future__ import annotations

import bisect
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

from flask import Blueprint, Response, request

from xero_sync.sandbox import xero_json as xj
from xero_sync.sandbox.body_checks import read_element
from xero_sync.sandbox.context import current_org
from xero_sync.sandbox.org import NotFound, Organisation, ValidationError
from xero_sync.sandbox.query import (
    QueryError, compile_ast, compile_where, date_range, page_args, paginate,
    parse_if_modified_since, parse_where, sort_records, split_list, truthy,
)

accounting = Blueprint("accounting", __name__)

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"
API_PREFIX = "/api.xro/2.0"
PROVIDER = "xero-sync sandbox"


# ---- responses -----------------------------------------------------------------------------

def _json(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype="application/json")


def envelope(key: str, items: Sequence[Any], pagination: Mapping[str, int] | None = None,
             status: int = 200) -> Response:
    """Xero's list wrapper; `items` are dicts or RawJSON fragments."""
    body: dict[str, Any] = {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": PROVIDER,
                            "DateTimeUTC": xj.ms_date(current_org().now())}
    if pagination is not None:
        body["pagination"] = dict(pagination)
    body[key] = list(items)
    return _json(xj.dumps(body), status)


def not_found() -> Response:
    return Response(NOT_FOUND_TEXT, status=404, mimetype="text/plain")


def error_response(message: str, elements: Sequence[Mapping[str, Any]] = (), number: int = 10,
                   type_: str = "ValidationException") -> Response:
    body = {"ErrorNumber": number, "Type": type_, "Message": message, "Elements": list(elements)}
    return _json(xj.dumps(body), 400)


def validation_response(elements: Sequence[Mapping[str, Any]]) -> Response:
    return error_response("A validation exception occurred", elements)


@accounting.errorhandler(QueryError)
def _query_error(exc: QueryError) -> Response:
    return error_response(str(exc), number=16, type_="QueryParseException")


@accounting.errorhandler(xj.BodyError)
def _body_error(exc: xj.BodyError) -> Response:
    return error_response(str(exc), number=14, type_="PostDataInvalidException")


@accounting.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    return not_found()


NOT_ALLOWED_TEXT = "The requested HTTP method is not supported for this resource"


@accounting.app_errorhandler(404)
def _no_route(exc: Any) -> Any:
    """An unknown path under the API answers Xero's plain-text 404, not Flask's HTML page."""
    return not_found() if request.path.startswith(request.script_root + API_PREFIX) else exc


@accounting.app_errorhandler(405)
def _no_method(exc: Any) -> Any:
    """An operation the sandbox does not serve (e.g. DELETE /Invoices): plain text, as Xero."""
    if not request.path.startswith(request.script_root + API_PREFIX):
        return exc
    answer = Response(NOT_ALLOWED_TEXT, status=405, mimetype="text/plain")
    answer.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))
    return answer


# ---- request helpers -----------------------------------------------------------------------

def _elements(key: str) -> list[dict[str, Any]]:
    """The submitted elements: `{"Key":[...]}`, or one bare element."""
    body = xj.loads(request.get_data() or b"{}")
    if isinstance(body, dict) and isinstance(body.get(key), list):
        items = body[key]
    elif isinstance(body, dict):
        items = [body]
    else:
        raise xj.BodyError(f"expected a JSON object with {key}")
    if not all(isinstance(e, dict) for e in items):
        raise xj.BodyError(f"every element of {key} must be an object")
    return items


def _summarize() -> bool:
    value = request.args.get("summarizeErrors")
    return value is None or value.strip().lower() != "false"


def _date(el: Mapping[str, Any], key: str, default: dt.date | None = None) -> dt.date | None:
    value = el.get(key)
    return xj.parse_date(value, key) if value not in (None, "") else default


def _ref(el: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = el.get(key)
    return value if isinstance(value, Mapping) else {}


def _write_batch(key: str, elements: list[dict[str, Any]],
                 apply: Callable[[dict[str, Any]], dict[str, Any]],
                 summarize: bool) -> Response:
    """Apply each element; errors per Xero's summarizeErrors convention."""
    results: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    # Xero reads each element into its model first (body_checks.py): wrong types never reach
    # the rules, and an error echoes the model, not what was sent. A summarised batch with a
    # malformed element is refused whole, before any element is applied.
    read = [read_element(key, raw) for raw in elements]
    if summarize and any(problems for _, problems in read):
        return validation_response([
            {**el, "ValidationErrors": [{"Message": m} for m in problems]}
            for el, problems in read if problems])
    # Xero answers a summarised batch with any failing element 400 ("the whole call",
    # XERO_API_NOTES §6); read as all or nothing, a rule broken by a later element undoes the
    # earlier ones. The copy is taken only for multi-element summarised batches (rare: the
    # product sends summarizeErrors=false or one element).
    snapshot = current_org().snapshot() if summarize and len(read) > 1 else None
    for el, problems in read:
        try:
            if problems:
                raise ValidationError(*problems)
            out = apply(el)
            if not summarize:
                out = {**out, "StatusAttributeString": "OK"}
            results.append(out)
        except (ValidationError, xj.BodyError, ArithmeticError) as exc:
            if isinstance(exc, ValidationError):
                messages = exc.messages
            elif isinstance(exc, xj.BodyError):
                messages = [str(exc)]
            else:  # defence in depth: no arithmetic failure becomes a 500
                messages = ["A validation exception occurred: an amount is out of range"]
            echo = {**el, "ValidationErrors": [{"Message": m} for m in messages]}
            if not summarize:
                echo.update(StatusAttributeString="ERROR", HasValidationErrors=True)
                results.append(echo)
            failed.append(echo)
    if failed and summarize:
        if snapshot is not None:
            current_org().restore(snapshot)
        return validation_response(failed)
    return envelope(key, results)


def _cached(record: Any, variant: str, build: Callable[[], dict[str, Any]], generation: int) -> xj.RawJSON:
    """Serialised JSON kept on the record until it (or any contact name) changes."""
    cache = record.cache if isinstance(record.cache, dict) else {}
    hit = cache.get(variant)
    if hit is not None and hit[0] == generation:
        return hit[1]
    text = xj.RawJSON(xj.dumps(build()))
    cache[variant] = (generation, text)
    record.cache = cache
    return text


def _list(records: Iterable[Any], fields: Mapping[str, Callable[[Any], Any]],
          id_of: Callable[[Any], Any], *, presorted: bool = False, paged: bool = True,
          extra: Callable[[Any], bool] | None = None) -> tuple[list[Any], dict[str, int] | None]:
    """Filter by where/If-Modified-Since/extra, order, and page a list of records."""
    pred = compile_where(request.args.get("where"), fields)
    since = parse_if_modified_since(request.headers.get("If-Modified-Since"))
    updated_of = fields["UpdatedDateUTC"]
    chosen = [r for r in records
              if (pred is None or pred(r)) and (extra is None or extra(r))
              and (since is None or updated_of(r) > since)]
    order = request.args.get("order")
    if order or not presorted:
        chosen = sort_records(chosen, order, fields, id_of, updated_of)
    paging = page_args(request.args.get("page"), request.args.get("pageSize")) if paged else None
    page, pagination = paginate(chosen, paging)
    return list(page), pagination


# ---- field maps for where/order ------------------------------------------------------------

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


_CONTACT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "ContactID": lambda c: c.contact_id, "Name": lambda c: c.name,
    "ContactStatus": lambda c: c.status, "EmailAddress": lambda c: c.email,
    "AccountNumber": lambda c: c.account_number, "IsCustomer": lambda c: c.is_customer,
    "IsSupplier": lambda c: c.is_supplier, "FirstName": lambda c: c.first_name,
    "LastName": lambda c: c.last_name, "UpdatedDateUTC": lambda c: c.updated,
}

_ACCOUNT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "AccountID": lambda a: a.account_id, "Code": lambda a: a.code, "Name": lambda a: a.name,
    "Type": lambda a: a.type, "Status": lambda a: a.status, "Class": lambda a: a.cls,
    "EnablePaymentsToAccount": lambda a: a.enable_payments,
    "BankAccountType": lambda a: a.bank_account_type, "UpdatedDateUTC": lambda a: a.updated,
}


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


_DOC_FIELDS: dict[str, Callable[[Any], Any]] = {
    "Date": lambda d: d.date, "Status": lambda d: d.status, "Type": lambda d: d.type,
    "Reference": lambda d: d.reference, "Contact.ContactID": lambda d: d.contact_id,
    "Total": lambda d: d.total, "RemainingCredit": lambda d: d.remaining_credit,
    "UpdatedDateUTC": lambda d: d.updated,
}

_BANK_TXN_FIELDS: dict[str, Callable[[Any], Any]] = {
    "BankTransactionID": lambda t: t.bank_transaction_id, "Type": lambda t: t.type,
    "Date": lambda t: t.date, "Status": lambda t: t.status, "Reference": lambda t: t.reference,
    "Total": lambda t: t.total, "IsReconciled": lambda t: t.is_reconciled,
    "BankAccount.AccountID": lambda t: t.bank_account_id,
    "Contact.ContactID": lambda t: t.contact_id, "UpdatedDateUTC": lambda t: t.updated,
}


# ---- Organisation, Accounts, Contacts ------------------------------------------------------

@accounting.get("/Organisation")
def get_organisation() -> Response:
    return envelope("Organisations", [xj.organisation_json(current_org())])


@accounting.get("/Accounts")
def list_accounts() -> Response:
    org = current_org()
    with org.lock:
        rows, _ = _list(org.accounts.values(), _ACCOUNT_FIELDS, lambda a: a.account_id, paged=False)
        if not request.args.get("order"):
            rows.sort(key=lambda a: a.code)
        return envelope("Accounts", [xj.account_json(a) for a in rows])


@accounting.get("/Accounts/<account_id>")
def get_account(account_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("Accounts", [xj.account_json(org.get_account(account_id))])


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
        rows, pagination = _list(org.contacts.values(), _CONTACT_FIELDS, lambda c: c.contact_id,
                                 extra=extra)
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
        return _write_batch("Contacts", _elements("Contacts"), apply, _summarize())


# ---- Invoices ------------------------------------------------------------------------------

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
        items = [_cached(inv, variant, lambda inv=inv: xj.invoice_json(inv, org, summary), gen)
                 for inv in page]
        return envelope("Invoices", items, pagination)


@accounting.get("/Invoices/<invoice_id>")
def get_invoice(invoice_id: str) -> Response:
    org = current_org()
    with org.lock:
        inv = org.invoices.get(invoice_id.lower()) or org.invoice_by_number(invoice_id)
        if inv is None:
            return not_found()
        return envelope("Invoices", [xj.invoice_json(inv, org)])


def _invoice_kwargs(org: Organisation, el: Mapping[str, Any]) -> dict[str, Any]:
    contact = _ref(el, "Contact")
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
        return _write_batch("Invoices", _elements("Invoices"), apply, _summarize())


@accounting.post("/Invoices/<invoice_id>")
def update_invoice(invoice_id: str) -> Response:
    org = current_org()
    with org.lock:
        if invoice_id.lower() not in org.invoices:
            return not_found()
        elements = _elements("Invoices")[:1]
        for el in elements:
            el.setdefault("InvoiceID", invoice_id)
        return _write_batch("Invoices", elements,
                            lambda el: xj.invoice_json(org.update_invoice(
                                invoice_id.lower(), **_invoice_kwargs(org, el)), org),
                            _summarize())


# ---- Payments ------------------------------------------------------------------------------

@accounting.get("/Payments")
def list_payments() -> Response:
    org = current_org()
    where = request.args.get("where")
    bounds = date_range(parse_where(where), "Date") if where and where.strip() else None
    with org.lock:
        # Monthly reads slice the date index instead of testing every payment.
        records = (org.payments.values() if bounds is None else
                   [org.payments[i] for i in org.payments_by_date.ids_between(*bounds)])
        rows, pagination = _list(records, _payment_fields(org), lambda p: p.payment_id)
        return envelope("Payments", [xj.payment_json(p, org) for p in rows], pagination)


@accounting.get("/Payments/<payment_id>")
def get_payment(payment_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("Payments", [xj.payment_json(org.get_payment(payment_id), org)])


def _apply_payment(org: Organisation, el: Mapping[str, Any]) -> dict[str, Any]:
    invoice, account = _ref(el, "Invoice"), _ref(el, "Account")
    if el.get("Amount") is None:
        raise ValidationError("Payment Amount is required")
    date = _date(el, "Date")
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
        elements = _elements("Payments")
        if request.method == "POST":
            elements = elements[:1]
        return _write_batch("Payments", elements, lambda el: _apply_payment(org, el), _summarize())


@accounting.post("/Payments/<payment_id>")
def delete_payment(payment_id: str) -> Response:
    org = current_org()
    with org.lock:
        payment = org.get_payment(payment_id)
        elements = _elements("Payments")[:1]

        def apply(el: dict[str, Any]) -> dict[str, Any]:
            if str(el.get("Status", "")).upper() != "DELETED":
                raise ValidationError("Payments can only be deleted (Status DELETED); they cannot "
                                      "be edited")
            return xj.payment_json(org.delete_payment(payment.payment_id), org)

        return _write_batch("Payments", elements, apply, True)


# ---- Credit notes, overpayments, prepayments -----------------------------------------------

@accounting.get("/CreditNotes")
def list_credit_notes() -> Response:
    org = current_org()
    with org.lock:
        rows, pagination = _list(org.credit_notes.values(),
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
        contact = _ref(el, "Contact")
        if not contact:
            raise ValidationError("A Contact must be specified for this type of transaction")
        cid = contact.get("ContactID") or org.resolve_contact(name=contact.get("Name")).contact_id
        note = org.create_credit_note(
            contact_id=cid, lines=el.get("LineItems") or [], date=_date(el, "Date", org.now().date()),
            status=el.get("Status") or "DRAFT", number=el.get("CreditNoteNumber") or None,
            reference=el.get("Reference") or "", type=el.get("Type") or "ACCRECCREDIT",
            line_amount_types=el.get("LineAmountTypes") or "Exclusive")
        return xj.credit_note_json(note, org)

    with org.lock:
        return _write_batch("CreditNotes", _elements("CreditNotes"), apply, _summarize())


def _allocate(kind: str, source_id: str) -> Response:
    org = current_org()
    with org.lock:
        table = {"CREDITNOTE": org.credit_notes, "OVERPAYMENT": org.overpayments,
                 "PREPAYMENT": org.prepayments}[kind]
        if source_id.lower() not in table:
            return not_found()

        def apply(el: dict[str, Any]) -> dict[str, Any]:
            if el.get("Amount") is None:
                raise ValidationError("Allocation Amount is required")
            allocation = org.allocate(kind, source_id.lower(),
                                      invoice_id=_ref(el, "Invoice").get("InvoiceID") or "",
                                      amount=xj.parse_decimal(el["Amount"], "Amount"),
                                      date=_date(el, "Date"))
            return xj.allocation_json(allocation, org)

        return _write_batch("Allocations", _elements("Allocations"), apply, _summarize())


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
        rows, pagination = _list(table.values(), {**_DOC_FIELDS, id_field: lambda c: c.credit_id},
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


# ---- Bank transactions and transfers -------------------------------------------------------

@accounting.get("/BankTransactions")
def list_bank_transactions() -> Response:
    org = current_org()
    with org.lock:
        rows, pagination = _list(org.bank_transactions.values(), _BANK_TXN_FIELDS,
                                 lambda t: t.bank_transaction_id)
        return envelope("BankTransactions", [xj.bank_transaction_json(t, org) for t in rows],
                        pagination)


@accounting.get("/BankTransactions/<bank_transaction_id>")
def get_bank_transaction(bank_transaction_id: str) -> Response:
    org = current_org()
    with org.lock:
        txn = org.get_bank_transaction(bank_transaction_id)
        return envelope("BankTransactions", [xj.bank_transaction_json(txn, org)])


def _apply_bank_transaction(org: Organisation, el: Mapping[str, Any]) -> dict[str, Any]:
    bank, contact = _ref(el, "BankAccount"), _ref(el, "Contact")
    if not el.get("Type"):
        raise ValidationError("BankTransaction Type is required")
    cid = contact.get("ContactID") or (
        org.resolve_contact(name=contact["Name"]).contact_id if contact.get("Name") else None)
    if not cid:
        raise ValidationError("A Contact must be specified for this type of transaction")
    txn = org.create_bank_transaction(
        type=el["Type"], bank_account_id=bank.get("AccountID"), bank_account_code=bank.get("Code"),
        contact_id=cid, lines=el.get("LineItems") or [], date=_date(el, "Date", org.now().date()),
        reference=el.get("Reference") or "", is_reconciled=bool(el.get("IsReconciled")),
        line_amount_types=el.get("LineAmountTypes") or "NoTax")
    return xj.bank_transaction_json(txn, org)


@accounting.route("/BankTransactions", methods=["PUT", "POST"])
def write_bank_transactions() -> Response:
    org = current_org()
    with org.lock:
        return _write_batch("BankTransactions", _elements("BankTransactions"),
                            lambda el: _apply_bank_transaction(org, el), _summarize())


@accounting.post("/BankTransactions/<bank_transaction_id>")
def delete_bank_transaction(bank_transaction_id: str) -> Response:
    org = current_org()
    with org.lock:
        txn = org.get_bank_transaction(bank_transaction_id)

        def apply(el: dict[str, Any]) -> dict[str, Any]:
            if str(el.get("Status", "")).upper() != "DELETED":
                raise ValidationError("Only Status DELETED is supported when updating a bank "
                                      "transaction in the sandbox")
            return xj.bank_transaction_json(org.delete_bank_transaction(txn.bank_transaction_id), org)

        return _write_batch("BankTransactions", _elements("BankTransactions")[:1], apply, True)


@accounting.get("/BankTransfers")
def list_bank_transfers() -> Response:
    org = current_org()
    fields = {"Date": lambda b: b.date, "Reference": lambda b: b.reference,
              "Amount": lambda b: b.amount, "CreatedDateUTC": lambda b: b.created,
              "UpdatedDateUTC": lambda b: b.created, "BankTransferID": lambda b: b.bank_transfer_id,
              "FromBankAccount.AccountID": lambda b: b.from_account_id,
              "ToBankAccount.AccountID": lambda b: b.to_account_id}
    with org.lock:
        rows, _ = _list(org.bank_transfers.values(), fields, lambda b: b.bank_transfer_id,
                        paged=False)
        return envelope("BankTransfers", [xj.bank_transfer_json(b, org) for b in rows])


@accounting.get("/BankTransfers/<bank_transfer_id>")
def get_bank_transfer(bank_transfer_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("BankTransfers", [xj.bank_transfer_json(org.get_bank_transfer(bank_transfer_id), org)])


@accounting.put("/BankTransfers")
def write_bank_transfers() -> Response:
    org = current_org()

    def apply(el: dict[str, Any]) -> dict[str, Any]:
        src, dst = _ref(el, "FromBankAccount"), _ref(el, "ToBankAccount")
        if el.get("Amount") is None:
            raise ValidationError("Amount is required")
        transfer = org.create_bank_transfer(
            amount=xj.parse_decimal(el["Amount"], "Amount"), date=_date(el, "Date", org.now().date()),
            from_account_id=src.get("AccountID"), from_account_code=src.get("Code"),
            to_account_id=dst.get("AccountID"), to_account_code=dst.get("Code"),
            reference=el.get("Reference") or "", from_is_reconciled=bool(el.get("FromIsReconciled")),
            to_is_reconciled=bool(el.get("ToIsReconciled")))
        return xj.bank_transfer_json(transfer, org)

    with org.lock:
        return _write_batch("BankTransfers", _elements("BankTransfers"), apply, _summarize())


# ---- Manual journals -----------------------------------------------------------------------

@accounting.get("/ManualJournals")
def list_manual_journals() -> Response:
    org = current_org()
    fields = {"Date": lambda j: j.date, "Status": lambda j: j.status,
              "Narration": lambda j: j.narration, "UpdatedDateUTC": lambda j: j.updated,
              "ManualJournalID": lambda j: j.manual_journal_id}
    with org.lock:
        rows, pagination = _list(org.manual_journals.values(), fields, lambda j: j.manual_journal_id)
        return envelope("ManualJournals", [xj.manual_journal_json(j) for j in rows], pagination)


@accounting.get("/ManualJournals/<manual_journal_id>")
def get_manual_journal(manual_journal_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("ManualJournals", [xj.manual_journal_json(org.get_manual_journal(manual_journal_id))])


@accounting.route("/ManualJournals", methods=["PUT", "POST"])
def write_manual_journals() -> Response:
    org = current_org()

    def apply(el: dict[str, Any]) -> dict[str, Any]:
        journal = org.create_manual_journal(
            narration=el.get("Narration") or "", date=_date(el, "Date", org.now().date()),
            lines=el.get("JournalLines") or [], status=el.get("Status") or "DRAFT",
            line_amount_types=el.get("LineAmountTypes") or "NoTax")
        return xj.manual_journal_json(journal)

    with org.lock:
        return _write_batch("ManualJournals", _elements("ManualJournals"), apply, _summarize())
