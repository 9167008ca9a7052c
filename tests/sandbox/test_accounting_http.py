"""The Accounting endpoints and control_records through a minimal Flask app (no auth layer)."""

import datetime as dt
import json
import types
from decimal import Decimal

import pytest
from flask import Flask, g

from xero_sandbox.accounting import accounting
from xero_sandbox.clock import Clock
from xero_sandbox.control_records import control_records
from xero_sandbox.seed import seed_organisations

API = "/api.xro/2.0"
UTC = dt.timezone.utc


def _app(org):
    app = Flask(__name__)
    app.extensions["xero_sandbox"] = types.SimpleNamespace(orgs={org.tenant_id: org}, clock=org.clock)
    app.register_blueprint(accounting, url_prefix=API)
    app.register_blueprint(control_records, url_prefix="/_sandbox/tenants")

    @app.before_request
    def _set_org():
        g.org = org

    return app.test_client()


def _body(resp):
    return json.loads(resp.data, parse_float=Decimal)


@pytest.fixture
def clock():
    return Clock(frozen_at=dt.datetime(2026, 11, 25, 12, tzinfo=UTC))


@pytest.fixture
def org(clock):
    return seed_organisations(seed=3, invoices=300, months=6, clock=clock, end=dt.date(2026, 11, 25))[0]


@pytest.fixture
def client(org):
    return _app(org)


def _open_invoice(org):
    return next(i for i in org.invoices.values() if i.status == "AUTHORISED" and i.type == "ACCREC"
                and not i.amount_paid and not i.amount_credited)


def test_month_slice_paging_matches_state(client, org):
    where = "Date>=DateTime(2026,10,01)&&Date<DateTime(2026,11,01)"
    expected = sorted((i for i in org.invoices.values() if dt.date(2026, 10, 1) <= i.date < dt.date(2026, 11, 1)),
                      key=lambda i: (i.updated, i.invoice_id))
    seen = []
    page = 1
    while True:
        body = _body(client.get(f"{API}/Invoices", query_string={"where": where, "page": page, "pageSize": 7}))
        seen += [i["InvoiceID"] for i in body["Invoices"]]
        if page >= body["pagination"]["pageCount"]:
            break
        page += 1
    assert seen == [i.invoice_id for i in expected]
    assert body["pagination"]["itemCount"] == len(expected)


def test_invoice_json_shape_and_exact_money(client, org):
    inv = next(i for i in org.invoices.values() if i.status == "PAID" and i.payment_ids)
    resp = client.get(f"{API}/Invoices/{inv.invoice_id}")
    body = _body(resp)
    assert resp.mimetype == "application/json" and body["Status"] == "OK"
    got = body["Invoices"][0]
    assert got["Total"] == inv.total and got["AmountDue"] == Decimal("0.00")
    assert got["Contact"]["ContactID"] == inv.contact_id and got["Status"] == "PAID"
    assert got["Date"].startswith("/Date(") and got["Date"].endswith("+0000)/")
    assert got["Payments"][0]["PaymentID"] == inv.payment_ids[0]
    assert b'"AmountDue":0.00' in resp.data  # written from Decimal, not float
    summary = _body(client.get(f"{API}/Invoices", query_string={"IDs": inv.invoice_id, "summaryOnly": "true"}))
    assert "LineItems" not in summary["Invoices"][0] and "pagination" not in summary


def test_filters_statuses_and_if_modified_since(client, org, clock):
    inv = _open_invoice(org)
    clock.advance(3600)
    since = clock.now().replace(microsecond=0).isoformat()
    clock.advance(5)
    client.put(f"{API}/Payments", json={"Payments": [
        {"Invoice": {"InvoiceID": inv.invoice_id}, "Account": {"Code": "095"}, "Date": "2026-11-25", "Amount": 1}]})
    changed = _body(client.get(f"{API}/Invoices", headers={"If-Modified-Since": since}))["Invoices"]
    assert [i["InvoiceID"] for i in changed] == [inv.invoice_id]
    payments = _body(client.get(f"{API}/Payments", headers={"If-Modified-Since": since}))["Payments"]
    assert len(payments) == 1 and payments[0]["Invoice"]["InvoiceID"] == inv.invoice_id
    drafts = _body(client.get(f"{API}/Invoices", query_string={"Statuses": "DRAFT"}))["Invoices"]
    assert drafts and all(i["Status"] == "DRAFT" for i in drafts)
    bad = client.get(f"{API}/Invoices", query_string={"where": "Date >> 3"})
    assert bad.status_code == 400 and "Date >> 3" in _body(bad)["Message"]


def test_put_payments_summarize_errors_false(client, org):
    inv = _open_invoice(org)
    resp = client.put(f"{API}/Payments?summarizeErrors=false", json={"Payments": [
        {"Invoice": {"InvoiceID": inv.invoice_id}, "Account": {"Code": "095"}, "Date": "2026-11-20",
         "Amount": 2.5, "Reference": "po_1"},
        {"Invoice": {"InvoiceID": inv.invoice_id}, "Account": {"Code": "095"}, "Date": "2026-11-20",
         "Amount": 999999},
    ]})
    assert resp.status_code == 200
    ok, err = _body(resp)["Payments"]
    assert ok["StatusAttributeString"] == "OK" and ok["Amount"] == Decimal("2.50") and ok["Reference"] == "po_1"
    assert ok["Account"]["Code"] == "095" and ok["PaymentType"] == "ACCRECPAYMENT"
    assert err["StatusAttributeString"] == "ERROR"
    assert err["ValidationErrors"] == [{"Message": "Payment amount exceeds the amount outstanding on this document"}]
    assert inv.amount_paid == Decimal("2.50")


def test_summarised_error_is_xero_400_and_edit_lock(client, org):
    inv = _open_invoice(org)
    resp = client.put(f"{API}/Payments", json={"Payments": [
        {"Invoice": {"InvoiceID": inv.invoice_id}, "Account": {"Code": "200"}, "Date": "2026-11-20", "Amount": 1}]})
    body = _body(resp)
    assert resp.status_code == 400 and body["ErrorNumber"] == 10 and body["Type"] == "ValidationException"
    assert body["Elements"][0]["Invoice"]["InvoiceID"] == inv.invoice_id
    assert "BANK" in body["Elements"][0]["ValidationErrors"][0]["Message"]
    pay = _body(client.post(f"{API}/Payments", json={
        "Invoice": {"InvoiceID": inv.invoice_id}, "Account": {"Code": "090"}, "Date": "/Date(1764547200000+0000)/",
        "Amount": 1}))["Payments"][0]
    edit = client.post(f"{API}/Invoices", json={"Invoices": [{"InvoiceID": inv.invoice_id, "DueDate": "2026-12-31"}]})
    assert edit.status_code == 400
    assert _body(edit)["Elements"][0]["ValidationErrors"][0]["Message"].startswith("This document cannot be edited")
    deleted = client.post(f"{API}/Payments/{pay['PaymentID']}", json={"Payments": [{"Status": "DELETED"}]})
    assert _body(deleted)["Payments"][0]["Status"] == "DELETED" and inv.amount_paid == 0
    edit = client.post(f"{API}/Invoices", json={"Invoices": [{"InvoiceID": inv.invoice_id, "DueDate": "2026-12-31"}]})
    assert edit.status_code == 200 and inv.due_date == dt.date(2026, 12, 31)


def test_not_found_is_plain_text(client):
    resp = client.get(f"{API}/Payments/00000000-0000-0000-0000-000000000000")
    assert resp.status_code == 404 and resp.mimetype == "text/plain"
    assert resp.data == b"The resource you're looking for cannot be found"


def test_bank_transfer_and_transactions(client, org):
    resp = client.put(f"{API}/BankTransfers", json={"BankTransfers": [
        {"FromBankAccount": {"Code": "095"}, "ToBankAccount": {"Code": "090"}, "Amount": 150.25, "Date": "2026-11-24",
         "Reference": "payout_1"}]})
    transfer = _body(resp)["BankTransfers"][0]
    assert transfer["Amount"] == Decimal("150.25")
    listed = _body(client.get(f"{API}/BankTransactions", query_string={"where": 'Type=="SPEND-TRANSFER"'}))
    assert [t["BankTransactionID"] for t in listed["BankTransactions"]] == [transfer["FromBankTransactionID"]]
    bad = client.put(f"{API}/BankTransfers", json={"BankTransfers": [
        {"FromBankAccount": {"Code": "615"}, "ToBankAccount": {"Code": "090"}, "Amount": 1}]})
    assert "Transfers can only be made between BANK type accounts" in bad.get_data(as_text=True)
    contact = next(iter(org.contacts))
    fee = _body(client.put(f"{API}/BankTransactions", json={"BankTransactions": [
        {"Type": "SPEND", "BankAccount": {"Code": "095"}, "Contact": {"ContactID": contact}, "Reference": "fees",
         "LineItems": [{"Description": "fee", "LineAmount": 3.1, "AccountCode": "404"}]}]}))["BankTransactions"][0]
    assert fee["Total"] == Decimal("3.10")
    gone = _body(client.post(f"{API}/BankTransactions/{fee['BankTransactionID']}", json={"Status": "DELETED"}))
    assert gone["BankTransactions"][0]["Status"] == "DELETED"


def test_accounts_contacts_organisation(client, org):
    banks = _body(client.get(f"{API}/Accounts", query_string={"where": 'Type=="BANK"'}))["Accounts"]
    assert {a["Name"] for a in banks} >= {"Payments Clearing", "Business Checking"}
    visible = _body(client.get(f"{API}/Contacts"))["Contacts"]
    everyone = _body(client.get(f"{API}/Contacts", query_string={"includeArchived": "true"}))["Contacts"]
    assert len(everyone) == len(org.contacts) > len(visible)
    assert all(c["ContactStatus"] != "ARCHIVED" for c in visible)
    assert _body(client.get(f"{API}/Organisation"))["Organisations"][0]["OrganisationID"] == org.tenant_id


def test_control_records_user_actions(client, org):
    base = f"/_sandbox/tenants/{org.tenant_id}"
    contact = _body(client.post(f"{base}/contacts", json={"name": "New Customer LLC"}))
    inv = _body(client.post(f"{base}/invoices", json={"contact_id": contact["ContactID"], "amount": "200.00",
                                                      "date": "2026-11-01"}))
    assert inv["Status"] == "AUTHORISED" and inv["Total"] == Decimal("200.00")
    edited = _body(client.patch(f"{base}/invoices/{inv['InvoiceID']}", json={"amount": "180.00"}))
    assert edited["AmountDue"] == Decimal("180.00")
    pay = _body(client.post(f"{base}/invoices/{inv['InvoiceID']}/payments", json={"amount": "80.00"}))
    over = client.post(f"{base}/invoices/{inv['InvoiceID']}/payments", json={"amount": "500"})
    assert over.status_code == 400 and "exceeds" in _body(over)["error"]
    note = _body(client.post(f"{base}/credit-notes", json={"contact_id": contact["ContactID"], "amount": 30,
                                                           "invoice_id": inv["InvoiceID"]}))
    assert note["RemainingCredit"] == Decimal("0.00")
    pre = _body(client.post(f"{base}/prepayments", json={"contact_id": contact["ContactID"], "amount": "70",
                                                         "invoice_id": inv["InvoiceID"]}))
    assert pre["Prepayment"]["RemainingCredit"] == Decimal("0.00")
    state = _body(client.get(f"{base}/invoices/{inv['InvoiceID']}"))
    assert state["Status"] == "PAID" and state["AmountCredited"] == Decimal("100.00")
    assert client.delete(f"{base}/payments/{pay['PaymentID']}").status_code == 200
    summary = client.get(f"{base}/invoices").get_json()["invoices"]
    row = next(r for r in summary if r["id"] == inv["InvoiceID"])
    assert (row["status"], row["amount_due"], row["amount_paid"]) == ("AUTHORISED", "80.00", "0.00")
    draft = _body(client.post(f"{base}/invoices", json={"contact_id": contact["ContactID"], "amount": 5,
                                                        "status": "DRAFT"}))
    assert _body(client.post(f"{base}/invoices/{draft['InvoiceID']}/delete"))["Status"] == "DELETED"
    assert _body(client.post(f"{base}/contacts/{contact['ContactID']}/archive"))["ContactStatus"] == "ARCHIVED"
    assert client.get("/_sandbox/tenants/nope/invoices").status_code == 404


def test_a_month_page_of_a_100k_organisation_holds_that_month_only(clock):
    """Paging a large organisation answers the right slice (its speed is bench/sandbox_page.py)."""
    org = seed_organisations(seed=9, invoices=100_000, months=12, clock=clock)[0]
    client = _app(org)
    query = {"where": "Date>=DateTime(2026,03,01)&&Date<DateTime(2026,04,01)", "page": 2, "pageSize": 100}
    body = _body(client.get(f"{API}/Invoices", query_string=query))
    assert len(body["Invoices"]) == 100 and body["pagination"]["itemCount"] > 5000
    assert body["pagination"]["page"] == 2
    in_march = [i for i in org.invoices.values() if dt.date(2026, 3, 1) <= i.date < dt.date(2026, 4, 1)]
    assert body["pagination"]["itemCount"] == len(in_march)
    assert {i["InvoiceID"] for i in body["Invoices"]} <= {i.invoice_id for i in in_march}
