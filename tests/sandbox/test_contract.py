"""Contract: every sandbox response shape xero-sync consumes validates against Xero's own OpenAPI.

Raw HTTP responses from a running sandbox are checked with openapi-core against
`xero_accounting.yaml` (and `xero-identity.yaml` for /connections), with requests rebuilt on the
spec's server URL https://api.xero.com/api.xro/2.0.

Known defects of the official spec, patched in memory (not in the file):
- ~23 boolean `default`s are written as strings ("false"); openapi-core refuses them.
- xero-identity.yaml declares Connection `createdDateUtc`/`updatedDateUtc` as RFC 3339
  `date-time`, but Xero sends them without an offset (e.g. "2019-07-09T23:40:30.1833130", as in
  Xero's own docs) and the sandbox copies Xero. The format is dropped for those two fields; the
  rest of the Connection schema is validated.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.sandbox_fixtures import issue_tokens

SPECS = Path(__file__).resolve().parents[2] / "vendor" / "xero-openapi"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the accounting spec is large


@cache
def _load(name: str) -> str:
    return (SPECS / name).read_text()
XERO_API = "https://api.xero.com"


def _fix_boolean_defaults(node) -> int:
    """Turn `default: "false"` into `default: false` under `type: boolean`; returns the count."""
    fixed = 0
    if isinstance(node, dict):
        if node.get("type") == "boolean" and isinstance(node.get("default"), str):
            node["default"] = node["default"].strip().lower() == "true"
            fixed += 1
        for value in node.values():
            fixed += _fix_boolean_defaults(value)
    elif isinstance(node, list):
        for value in node:
            fixed += _fix_boolean_defaults(value)
    return fixed


@cache
def _openapi(name: str) -> OpenAPI:
    spec = yaml.load(_load(name), Loader=_LOADER)
    _fix_boolean_defaults(spec)
    if name == "xero-identity.yaml":
        for field in ("createdDateUtc", "updatedDateUtc"):
            spec["components"]["schemas"]["Connection"]["properties"][field].pop("format", None)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


class Client:
    """Raw HTTP against the sandbox, each answer validated against the OpenAPI spec."""

    def __init__(self, server, tenant_id: str) -> None:
        self.server = server
        self.tenant_id = tenant_id
        self.tokens = issue_tokens(server, tenant_id)

    def call(self, method: str, path: str, body: dict | None = None, spec: str = "xero_accounting.yaml",
             expect: int = 200, **query) -> dict | list:
        api = path.startswith("/api.xro/")
        headers = {"Authorization": f"Bearer {self.tokens['access_token']}", "Accept": "application/json"}
        if api:
            headers["xero-tenant-id"] = self.tenant_id
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        answer = requests.request(
            method, self.server.base_url + path, params=query, data=data, headers=headers, timeout=10
        )
        assert answer.status_code == expect, answer.text[:2000]
        self.validate(method, answer, spec)
        return json.loads(answer.content, parse_float=Decimal)

    @staticmethod
    def validate(method: str, answer: requests.Response, spec: str) -> None:
        url = urlsplit(answer.request.url)
        request = MockRequest(
            XERO_API, method.lower(), url.path, args=dict(parse_qsl(url.query)),
            headers={"xero-tenant-id": "x"},
        )
        response = MockResponse(
            answer.content,
            status_code=answer.status_code,
            headers=dict(answer.headers),
            content_type=answer.headers.get("Content-Type", "application/json").split(";")[0],
        )
        _openapi(spec).validate_response(request, response)


@pytest.fixture(scope="module")
def contract(request):
    from tests.sandbox_fixtures import start_sandbox

    server = start_sandbox(seed=11, invoices=400, months=12)
    request.addfinalizer(server.stop)
    return Client(server, next(iter(server.sandbox.orgs)))


def test_validator_rejects_a_wrong_shape(contract):
    """Guards against a vacuous contract: a tampered answer must fail validation."""
    from openapi_core.validation.response.exceptions import InvalidData

    answer = requests.get(
        contract.server.base_url + "/api.xro/2.0/Invoices",
        params={"page": "1", "pageSize": "1"},
        headers={"Authorization": f"Bearer {contract.tokens['access_token']}", "xero-tenant-id": contract.tenant_id},
        timeout=10,
    )
    body = answer.json()
    body["Invoices"][0]["Status"] = "NOT_A_STATUS"
    answer._content = json.dumps(body).encode()
    with pytest.raises(InvalidData):
        Client.validate("GET", answer, "xero_accounting.yaml")


def test_spec_patch_fixes_string_booleans():
    spec = yaml.load(_load("xero_accounting.yaml"), Loader=_LOADER)
    assert _fix_boolean_defaults(spec) >= 20
    assert _fix_boolean_defaults(spec) == 0


@pytest.mark.parametrize(
    ("path", "key", "query"),
    [
        ("/Organisation", "Organisations", {}),
        ("/Accounts", "Accounts", {}),
        ("/Accounts", "Accounts", {"where": 'Type=="BANK"'}),
        ("/Contacts", "Contacts", {"page": "1", "pageSize": "50"}),
        ("/Contacts", "Contacts", {"includeArchived": "true", "summaryOnly": "true", "page": "1"}),
        ("/Invoices", "Invoices", {"page": "1", "pageSize": "100"}),
        ("/Invoices", "Invoices", {"where": "Date>=DateTime(2026,10,1)&&Date<DateTime(2026,11,1)"}),
        ("/Invoices", "Invoices", {"summaryOnly": "true", "page": "1"}),
        ("/Payments", "Payments", {"page": "1"}),
        ("/CreditNotes", "CreditNotes", {"page": "1"}),
        ("/Overpayments", "Overpayments", {"page": "1"}),
        ("/Prepayments", "Prepayments", {"page": "1"}),
        ("/BankTransactions", "BankTransactions", {"page": "1"}),
        ("/BankTransfers", "BankTransfers", {}),
        ("/ManualJournals", "ManualJournals", {}),
    ],
)
def test_list_endpoints(contract, path, key, query):
    body = contract.call("GET", f"/api.xro/2.0{path}", **query)
    assert key in body
    if "page" in query:
        assert set(body["pagination"]) >= {"page", "pageSize", "pageCount", "itemCount"}


@pytest.mark.parametrize(
    ("path", "key", "id_field"),
    [
        ("/Invoices", "Invoices", "InvoiceID"),
        ("/Contacts", "Contacts", "ContactID"),
        ("/Accounts", "Accounts", "AccountID"),
        ("/Payments", "Payments", "PaymentID"),
        ("/CreditNotes", "CreditNotes", "CreditNoteID"),
        ("/Overpayments", "Overpayments", "OverpaymentID"),
        ("/Prepayments", "Prepayments", "PrepaymentID"),
        ("/BankTransactions", "BankTransactions", "BankTransactionID"),
    ],
)
def test_single_record_endpoints(contract, path, key, id_field):
    listed = contract.call("GET", f"/api.xro/2.0{path}")[key]
    if not listed:
        pytest.skip(f"the seeded organisation has no {key}")
    record_id = listed[0][id_field]
    single = contract.call("GET", f"/api.xro/2.0{path}/{record_id}")[key]
    assert single[0][id_field] == record_id


def _accounts(contract) -> dict[str, dict]:
    return {a["Code"]: a for a in contract.call("GET", "/api.xro/2.0/Accounts")["Accounts"]}


def _unpaid(contract, count: int = 1) -> list[dict]:
    invoices = contract.call(
        "GET", "/api.xro/2.0/Invoices", Statuses="AUTHORISED", where='Type=="ACCREC"', page="1"
    )["Invoices"]
    unpaid = [i for i in invoices if Decimal(str(i["AmountDue"])) > 20]
    assert len(unpaid) >= count
    return unpaid[:count]


def _payment(invoice: dict, amount: str, reference: str) -> dict:
    return {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "615"},
        "Date": "2026-11-14",
        "Amount": Decimal(amount),
        "Reference": reference,
    }


def test_put_payments_success_then_delete(contract):
    invoice = _unpaid(contract)[0]
    body = {"Payments": [dict(_payment(invoice, "5.00", "contract-ok"), Amount=5.0)]}
    created = contract.call("PUT", "/api.xro/2.0/Payments", body)["Payments"][0]
    assert created["Status"] == "AUTHORISED"
    deleted = contract.call(
        "POST", f"/api.xro/2.0/Payments/{created['PaymentID']}", {"Payments": [{"Status": "DELETED"}]}
    )["Payments"][0]
    assert deleted["Status"] == "DELETED"


def test_put_payments_summarize_errors_false_with_an_error(contract):
    good, bad = _unpaid(contract, 2)
    body = {
        "Payments": [
            dict(_payment(good, "2.00", "contract-mixed"), Amount=2.0),
            dict(_payment(bad, "0", "contract-mixed"), Amount=float(Decimal(str(bad["AmountDue"])) + 100)),
        ]
    }
    answer = contract.call("PUT", "/api.xro/2.0/Payments", body, summarizeErrors="false")["Payments"]
    assert [p["StatusAttributeString"] for p in answer] == ["OK", "ERROR"]
    assert answer[1]["ValidationErrors"][0]["Message"]


def test_validation_error_400(contract):
    invoice = _unpaid(contract)[0]
    body = {"Payments": [dict(_payment(invoice, "0", "x"), Amount=float(Decimal(str(invoice["AmountDue"])) + 1))]}
    answer = contract.call("PUT", "/api.xro/2.0/Payments", body, expect=400)
    assert answer["Type"] == "ValidationException"
    assert "exceeds the amount outstanding" in answer["Elements"][0]["ValidationErrors"][0]["Message"]


def test_put_bank_transactions(contract):
    accounts = _accounts(contract)
    contact = contract.call("GET", "/api.xro/2.0/Contacts", page="1")["Contacts"][0]
    body = {
        "BankTransactions": [
            {
                "Type": "RECEIVE",
                "BankAccount": {"AccountID": accounts["090"]["AccountID"]},
                "Contact": {"ContactID": contact["ContactID"]},
                "LineAmountTypes": "NoTax",
                "LineItems": [
                    {"Description": "Payout gross", "Quantity": 1.0, "UnitAmount": 100.0, "AccountCode": "615"},
                    {"Description": "Fees", "Quantity": 1.0, "UnitAmount": -3.5, "AccountCode": "404"},
                ],
                "Date": "2026-11-14",
                "Reference": "payout-1",
            }
        ]
    }
    created = contract.call("PUT", "/api.xro/2.0/BankTransactions", body)["BankTransactions"][0]
    assert Decimal(str(created["Total"])) == Decimal("96.50")
    single = contract.call("GET", f"/api.xro/2.0/BankTransactions/{created['BankTransactionID']}")
    assert single["BankTransactions"][0]["Reference"] == "payout-1"


def test_put_bank_transfers(contract):
    accounts = _accounts(contract)
    body = {
        "BankTransfers": [
            {
                "FromBankAccount": {"Code": "095"},
                "ToBankAccount": {"Code": "090"},
                "Amount": 250.0,
                "Date": "2026-11-14",
                "Reference": "payout-2",
            }
        ]
    }
    created = contract.call("PUT", "/api.xro/2.0/BankTransfers", body)["BankTransfers"][0]
    assert created["ToBankAccount"]["AccountID"] == accounts["090"]["AccountID"]
    contract.call("GET", f"/api.xro/2.0/BankTransfers/{created['BankTransferID']}")


def test_credit_note_allocation(contract):
    invoice = _unpaid(contract)[0]
    note_body = {
        "CreditNotes": [
            {
                "Type": "ACCRECCREDIT",
                "Status": "AUTHORISED",
                "Contact": {"ContactID": invoice["Contact"]["ContactID"]},
                "LineAmountTypes": "NoTax",
                "LineItems": [{"Description": "Credit", "Quantity": 1.0, "UnitAmount": 10.0, "AccountCode": "200"}],
                "Date": "2026-11-14",
            }
        ]
    }
    note = contract.call("PUT", "/api.xro/2.0/CreditNotes", note_body)["CreditNotes"][0]
    allocation_body = {
        "Allocations": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 10.0, "Date": "2026-11-14"}]
    }
    allocated = contract.call(
        "PUT", f"/api.xro/2.0/CreditNotes/{note['CreditNoteID']}/Allocations", allocation_body
    )["Allocations"][0]
    assert Decimal(str(allocated["Amount"])) == Decimal("10.00")
    after = contract.call("GET", f"/api.xro/2.0/Invoices/{invoice['InvoiceID']}")["Invoices"][0]
    assert Decimal(str(after["AmountCredited"])) >= Decimal("10.00")


def test_connections_against_identity_spec(contract):
    # The spec (and xero-python) spell it /Connections; Xero answers either case.
    connections = contract.call("GET", "/Connections", spec="xero-identity.yaml")
    assert connections[0]["tenantId"] == contract.tenant_id


def test_trial_balance_report(contract):
    """GET /Reports/TrialBalance in Xero's report shape; the books balance (debits = credits)."""
    body = contract.call("GET", "/api.xro/2.0/Reports/TrialBalance", date="2030-01-31")
    (report,) = body["Reports"]
    assert report["ReportType"] == "TrialBalance"
    header, *sections, summary = report["Rows"]
    assert header["RowType"] == "Header" and [c["Value"] for c in header["Cells"]][:3] == [
        "Account", "Debit", "Credit"]
    rows = [r for s in sections for r in s["Rows"]]
    assert rows and all(r["RowType"] == "Row" for r in rows)
    assert all(c["Attributes"][0]["Id"] == "account" for r in rows for c in r["Cells"])
    (total,) = summary["Rows"]
    assert total["RowType"] == "SummaryRow"
    debit, credit = (Decimal(c["Value"]) for c in total["Cells"][1:3])
    assert debit == credit > 0
