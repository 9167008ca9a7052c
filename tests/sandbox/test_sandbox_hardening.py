"""The sandbox never breaks (issue 10): each request the spec-driven fuzzing found answering 500,
or storing garbage, now gets Xero's 400 (or a plain 404/405), stores nothing, and leaves later
reads of the tenant intact. Real server over HTTP."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests

from tests.sandbox.test_contract import Client
from tests.sandbox_fixtures import control, start_sandbox

API = "/api.xro/2.0"


@pytest.fixture(scope="module")
def box():
    # Limits out of the way: this module makes hundreds of calls on a frozen clock.
    server = start_sandbox(seed=5, invoices=40, months=3, minute_limit=10**6, day_limit=10**7)
    client = Client(server, next(iter(server.sandbox.orgs)))
    yield client
    server.stop()


def _send(box, method: str, path: str, *, raw: str | None = None, body=None, headers=None, **query):
    hdrs = {"Authorization": f"Bearer {box.tokens['access_token']}", "xero-tenant-id": box.tenant_id,
            "Accept": "application/json", **(headers or {})}
    data = raw.encode() if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    return requests.request(method, box.server.base_url + API + path, params=query, data=data,
                            headers=hdrs, timeout=10)


def _org(box):
    return box.server.sandbox.orgs[box.tenant_id]


def _counts(box) -> dict:
    org = _org(box)
    return {name: len(getattr(org, name)) for name in (
        "contacts", "invoices", "payments", "credit_notes", "bank_transactions", "bank_transfers",
        "manual_journals", "overpayments", "prepayments")}


def _reads_work(box) -> None:
    """Every list read of the tenant still answers 200 with its records (the spec-conformance of
    these reads is test_contract's and the fuzz test's job; here: nothing broke them)."""
    for path in ("/Contacts", "/Invoices", "/Payments", "/BankTransactions", "/BankTransfers",
                 "/CreditNotes", "/Accounts", "/ManualJournals"):
        answer = _send(box, "GET", path)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert isinstance(json.loads(answer.content)[path[1:]], list)


def _refused(box, answer: requests.Response, before: dict) -> dict:
    assert answer.status_code == 400, answer.text[:500]
    body = json.loads(answer.content, parse_float=Decimal)
    assert body["Type"] in ("ValidationException", "PostDataInvalidException", "QueryParseException")
    assert isinstance(body["Message"], str) and body["Message"]
    assert _counts(box) == before, "a refused write stored something"
    _reads_work(box)
    return body


def _ids(box) -> dict:
    org = _org(box)
    contact = next(iter(org.contacts.values()))
    invoice = next(i for i in org.invoices.values() if i.status == "AUTHORISED" and i.amount_due > 0)
    return {"contact": contact.contact_id, "invoice": invoice.invoice_id,
            "bank": org.account_by_code("090").account_id}


# ---- reads: out-of-range dates in where, extreme If-Modified-Since -----------------------------

@pytest.mark.parametrize("path", ["/Invoices", "/Payments", "/CreditNotes", "/BankTransactions"])
def test_where_up_to_the_last_representable_day_answers_200(box, path):
    answer = _send(box, "GET", path, where="Date<=DateTime(9999,12,31)", page="1")
    assert answer.status_code == 200, answer.text[:300]
    Client.validate("GET", answer, "xero_accounting.yaml")


@pytest.mark.parametrize("path", ["/Invoices", "/Payments", "/Contacts"])
@pytest.mark.parametrize("where", ["Date>=DateTime(99999999999,1,1)", "Date<DateTime(2024,13,45)",
                                   "UpdatedDateUTC>DateTime(-5,1,1)"])
def test_where_with_an_impossible_date_is_a_query_parse_400(box, path, where):
    before = _counts(box)
    body = _refused(box, _send(box, "GET", path, where=where), before)
    assert body["Type"] == "QueryParseException"


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00",
                                   "Fri, 31 Dec 9999 23:59:59 -0500", "Mon, 01 Jan 0001 00:00:00 +0500"])
@pytest.mark.parametrize("path", ["/Invoices", "/Contacts", "/Payments"])
def test_extreme_if_modified_since_never_500s(box, path, since):
    answer = _send(box, "GET", path, headers={"If-Modified-Since": since})
    assert answer.status_code in (200, 400), answer.text[:300]
    _reads_work(box)


# ---- writes: amounts, dates, wrong JSON types --------------------------------------------------

def _payment(ids, amount="10.00", date='"2026-11-01"') -> str:
    return ('{"Payments":[{"Invoice":{"InvoiceID":"%s"},"Account":{"AccountID":"%s"},'
            '"Date":%s,"Amount":%s,"Reference":"fuzz"}]}' % (ids["invoice"], ids["bank"], date, amount))


def _transfer(box, amount="10.00") -> str:
    org = _org(box)
    banks = [a.account_id for a in org.accounts.values() if a.type == "BANK"]
    if len(banks) < 2:
        banks = [banks[0], banks[0]]
    return ('{"BankTransfers":[{"FromBankAccount":{"AccountID":"%s"},"ToBankAccount":{"AccountID":"%s"},'
            '"Amount":%s,"Date":"2026-11-01"}]}' % (banks[0], banks[1], amount))


def _invoice(ids, unit="10.00", date='"2026-11-01"', **overrides) -> str:
    el = {"Type": "ACCREC", "Contact": {"ContactID": ids["contact"]}, "Date": "@DATE@",
          "DueDate": "2026-11-30", "Status": "AUTHORISED",
          "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": "@UNIT@", "AccountCode": "200"}]}
    el.update(overrides)
    return json.dumps({"Invoices": [el]}).replace('"@UNIT@"', unit).replace('"@DATE@"', date)


def _bank_transaction(ids, unit="10.00") -> str:
    el = {"Type": "RECEIVE", "BankAccount": {"AccountID": ids["bank"]}, "Contact": {"ContactID": ids["contact"]},
          "Date": "2026-11-01", "LineAmountTypes": "NoTax",
          "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": "@UNIT@", "AccountCode": "200"}]}
    return json.dumps({"BankTransactions": [el]}).replace('"@UNIT@"', unit)


BAD_AMOUNTS = ["1e30", '"NaN"', "1e400", "NaN", "Infinity", '"-Infinity"', '"abc"', "true", "[1]"]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
@pytest.mark.parametrize("kind", ["Payments", "BankTransfers", "Invoices", "BankTransactions"])
def test_non_finite_or_huge_amounts_are_refused_and_store_nothing(box, kind, amount):
    ids = _ids(box)
    raw = {"Payments": lambda: _payment(ids, amount), "BankTransfers": lambda: _transfer(box, amount),
           "Invoices": lambda: _invoice(ids, amount),
           "BankTransactions": lambda: _bank_transaction(ids, amount)}[kind]()
    before = _counts(box)
    body = _refused(box, _send(box, "PUT", f"/{kind}", raw=raw), before)
    assert body["Elements"] and body["Elements"][0]["ValidationErrors"]


@pytest.mark.parametrize("kind", ["Payments", "Invoices"])
@pytest.mark.parametrize("date", ['"/Date(99999999999999999)/"', '"/Date(-99999999999999999+0000)/"',
                                  '"99999-01-01"', "5", '{"a":1}'])
def test_impossible_dates_in_a_body_are_refused(box, kind, date):
    ids = _ids(box)
    raw = _payment(ids, date=date) if kind == "Payments" else _invoice(ids, date=date)
    before = _counts(box)
    _refused(box, _send(box, "PUT", f"/{kind}", raw=raw), before)


def _wrong_types(ids) -> list[tuple[str, str, dict]]:
    inv = {"Type": "ACCREC", "Contact": {"ContactID": ids["contact"]}, "Date": "2026-11-01",
           "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 5, "AccountCode": "200"}]}
    pay = {"Invoice": {"InvoiceID": ids["invoice"]}, "Account": {"AccountID": ids["bank"]},
           "Date": "2026-11-01", "Amount": 1}
    return [
        ("PUT", "/Payments", {"Payments": [{**pay, "Invoice": {"InvoiceID": 5}}]}),
        ("PUT", "/Payments", {"Payments": [{**pay, "Account": "090"}]}),
        ("PUT", "/Contacts", {"Contacts": [{"Name": 5}]}),
        ("PUT", "/Contacts", {"Contacts": [{"Name": [1]}]}),
        ("PUT", "/Contacts", {"Contacts": [{"Name": "Banana Co", "ContactStatus": "BANANA"}]}),
        ("PUT", "/Contacts", {"Contacts": [{"Name": "Mail Co", "EmailAddress": 5}]}),
        ("POST", "/Contacts", {"Contacts": [{"ContactID": ids["contact"], "ContactStatus": "BANANA"}]}),
        ("POST", "/Contacts", {"Contacts": [{"ContactID": ids["contact"], "Name": [1]}]}),
        ("POST", "/Contacts", {"Contacts": [{"ContactID": 5, "Name": "x"}]}),
        ("PUT", "/Invoices", {"Invoices": [{**inv, "LineItems": "x"}]}),
        ("PUT", "/Invoices", {"Invoices": [{**inv, "LineItems": [{**inv["LineItems"][0], "Quantity": "abc"}]}]}),
        ("PUT", "/Invoices", {"Invoices": [{**inv, "Contact": {"ContactID": 5}}]}),
        ("PUT", "/Invoices", {"Invoices": [{**inv, "Reference": {"a": 1}}]}),
        ("POST", "/Invoices", {"Invoices": [{**inv, "InvoiceID": 5}]}),
        ("PUT", "/Invoices", {"Invoices": [{**inv, "Status": "BANANA"}]}),
        ("PUT", "/BankTransactions", {"BankTransactions": [{"Type": 5}]}),
        ("PUT", "/CreditNotes", {"CreditNotes": [{"Contact": {"ContactID": ids["contact"]}, "LineItems": [5]}]}),
        ("PUT", "/ManualJournals", {"ManualJournals": [{"Narration": {"a": 1}, "JournalLines": []}]}),
    ]


@pytest.mark.parametrize("case", range(18))
def test_wrong_json_types_are_refused_store_nothing_and_reads_still_work(box, case):
    method, path, body = _wrong_types(_ids(box))[case]
    contact_before = box.call("GET", f"{API}/Contacts/{_ids(box)['contact']}")["Contacts"]
    before = _counts(box)
    _refused(box, _send(box, method, path, body=body), before)
    assert box.call("GET", f"{API}/Contacts/{_ids(box)['contact']}")["Contacts"] == contact_before


# ---- error echoes are Xero's model, not the raw element ----------------------------------------

@pytest.mark.parametrize("summarize", ["true", "false"])
def test_error_echo_is_the_parsed_model_not_the_raw_element(box, summarize):
    ids = _ids(box)
    el = json.loads(_payment(ids, amount="1"))["Payments"][0]
    el.update(Amount="NaN", Bogus={"x": [1, 2]}, IsReconciled="maybe", Reference=5)
    answer = _send(box, "PUT", "/Payments", body={"Payments": [el]}, summarizeErrors=summarize)
    body = json.loads(answer.content, parse_float=Decimal)
    echo = (body["Elements"] if summarize == "true" else body["Payments"])[0]
    assert "Bogus" not in echo and "IsReconciled" not in echo and "Reference" not in echo
    assert echo["Invoice"]["InvoiceID"] == ids["invoice"] and echo["ValidationErrors"]
    if summarize == "false":
        assert answer.status_code == 200 and echo["StatusAttributeString"] == "ERROR"
        Client.validate("PUT", answer, "xero_accounting.yaml")


# ---- operations the sandbox does not serve, and the control API --------------------------------

@pytest.mark.parametrize("method, path", [("DELETE", "/Invoices"), ("POST", "/BankTransfers"),
                                          ("DELETE", "/Contacts/abc"), ("GET", "/Items"),
                                          ("PATCH", "/Payments")])
def test_operations_not_served_answer_plain_text_not_flask_html(box, method, path):
    answer = _send(box, method, path, body={})
    assert answer.status_code in (404, 405)
    assert answer.headers["Content-Type"].split(";")[0] in ("text/plain", "application/json")
    assert "<html" not in answer.text.lower() and "<!doctype" not in answer.text.lower()


def test_control_tenants_reports_record_counts(box):
    [tenant] = control(box.server, "GET", "/tenants")
    org = _org(box)
    assert tenant["counts"]["invoices"] == len(org.invoices) > 0
    assert tenant["counts"]["contacts"] == len(org.contacts) > 0
    assert tenant["counts"]["payments"] == len(org.payments)


def test_a_summarised_batch_is_all_or_nothing(box):
    """A valid element followed by one that breaks a rule (or has the wrong shape): 400, and the
    valid one is not kept either (found by the spec fuzz test: a refused PUT /Contacts stored)."""
    before = _counts(box)
    for second in ({"Name": ""}, {"Name": 5}):
        answer = _send(box, "PUT", "/Contacts", body={"Contacts": [{"Name": "Kept Co"}, second]})
        _refused(box, answer, before)
    assert not any(c.name == "Kept Co" for c in _org(box).contacts.values())
    answer = _send(box, "PUT", "/Contacts", body={"Contacts": [{"Name": "Kept Co"}, {"Name": ""}]},
                   summarizeErrors="false")
    assert answer.status_code == 200 and _counts(box)["contacts"] == before["contacts"] + 1


def test_request_schema_module_matches_the_vendored_spec():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, str(root / "scripts" / "request_schema.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
