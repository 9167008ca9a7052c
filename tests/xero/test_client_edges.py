"""The client at the edges (issue 10): odd payloads, over-stated paging and the two kinds of 403,
through the real client and xero-python against the sandbox serving canned answers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import dagster as dg
import pytest

from tests.sandbox_fixtures import control
from xero_sync.connect.refusals import recording_refusals
from xero_sync.glue.failures import xero_failures
from xero_sync.store import connections
from xero_sync.resources.platform import PlatformResource
from xero_sync.core.errors import MalformedXeroPayload, TenantDisconnected, XeroForbidden
from xero_sync.xero.writes import NewPayment

INVOICE_ID = "8f5d1a9e-3c52-4b1e-9d7a-2f1e0c6b5a41"
# One invoice as Xero sends it; @FIELD@ marks where a test puts a raw JSON value.
INVOICE = {
    "InvoiceID": INVOICE_ID, "InvoiceNumber": "INV-9", "Type": "ACCREC", "Status": "AUTHORISED",
    "Contact": {"ContactID": "0a3c1d2e-1111-4c2b-8a9e-5b6c7d8e9f00", "Name": "Acme"},
    "Date": "/Date(1704067200000+0000)/", "CurrencyCode": "USD", "SubTotal": "@SubTotal@",
    "Total": "@Total@", "AmountDue": "@AmountDue@", "AmountPaid": 0,
    "Reference": "@Reference@", "UpdatedDateUTC": "/Date(1704153600123+0000)/",
}
GOOD = {"SubTotal": "100.00", "Total": "100.00", "AmountDue": "100.00", "Reference": '"r-1"'}


def _invoice_page(**raw: str) -> str:
    """A GET /Invoices answer whose marked fields hold `raw` JSON text (may be NaN, 1E+30...)."""
    values = {**GOOD, **raw}
    text = json.dumps({"Invoices": [INVOICE], "pagination": {"page": 1, "pageSize": 1000,
                                                            "pageCount": 1, "itemCount": 1}})
    for name, value in values.items():
        text = text.replace(f'"@{name}@"', value)
    return text


def _can(env, **answer) -> None:
    control(env.server, "POST", "/canned", {"tenant_id": env.tenant_id, **answer})


def test_a_well_formed_canned_page_parses(env):
    """Guards the tests below: the template itself is fine, so each failure is the field's."""
    _can(env, method="GET", path_prefix="/api.xro/2.0/Invoices", body=_invoice_page())
    [inv] = env.client().invoices().records
    assert inv.invoice_id == INVOICE_ID and inv.total == Decimal("100.00") and inv.reference == "r-1"


@pytest.mark.parametrize(
    "field, raw, record_id",
    [
        ("Total", "NaN", INVOICE_ID),
        ("Total", "Infinity", INVOICE_ID),
        ("AmountDue", "-Infinity", INVOICE_ID),
        ("Total", "1E+30", INVOICE_ID),
        ("AmountDue", "10.001", INVOICE_ID),
        ("SubTotal", '"NaN"', INVOICE_ID),
        ("Reference", '{"a": 1}', INVOICE_ID),
        ("Reference", "5", INVOICE_ID),
    ],
)
def test_bad_amounts_and_wrong_types_are_malformed_naming_entity_id_and_field(env, field, raw, record_id):
    _can(env, method="GET", path_prefix="/api.xro/2.0/Invoices", body=_invoice_page(**{field: raw}))
    with pytest.raises(MalformedXeroPayload) as err:
        env.client().invoices()
    assert (err.value.entity, err.value.record_id, err.value.field) == ("Invoice", record_id, field)
    assert INVOICE_ID in str(err.value) and field in str(err.value)


@pytest.mark.parametrize("bad_id, field", [({"a": 1}, "InvoiceID"), (5, "InvoiceID")])
def test_an_object_or_number_where_a_guid_belongs_is_malformed_not_stringified(env, bad_id, field):
    page = json.loads(_invoice_page())
    page["Invoices"][0]["InvoiceID"] = bad_id
    _can(env, method="GET", path_prefix="/api.xro/2.0/Invoices", body=json.dumps(page))
    with pytest.raises(MalformedXeroPayload) as err:
        env.client().invoices()
    assert (err.value.entity, err.value.field) == ("Invoice", field)


def test_a_number_as_contact_id_is_malformed(env):
    page = json.loads(_invoice_page())
    page["Invoices"][0]["Contact"]["ContactID"] = 5
    _can(env, method="GET", path_prefix="/api.xro/2.0/Invoices", body=json.dumps(page))
    with pytest.raises(MalformedXeroPayload) as err:
        env.client().invoices()
    assert (err.value.record_id, err.value.field) == (INVOICE_ID, "Contact.ContactID")


def _payment() -> NewPayment:
    return NewPayment(invoice_id=INVOICE_ID, account_id="acc", date=dt.date(2026, 11, 1),
                      amount=Decimal("5.00"), reference="ap-1")


@pytest.mark.parametrize(
    "element",
    [None, "oops", 5, {"ValidationErrors": 5}, {"ValidationErrors": ["x"]},
     {"PaymentID": {"a": 1}, "StatusAttributeString": "OK"}, {"StatusAttributeString": 7}],
)
def test_payment_results_on_odd_elements_raise_malformed_payload(env, element):
    _can(env, method="PUT", path_prefix="/api.xro/2.0/Payments", body={"Payments": [element]})
    with pytest.raises(MalformedXeroPayload) as err:
        env.client().create_payments([_payment()], "key-odd-1")
    assert err.value.entity == "Payment" and err.value.field.startswith("Payments[0]")
    assert env.server.sandbox.orgs[env.tenant_id].payments  # the seed's, untouched by the canned call
    log = [r for r in env.requests(tenant_id=env.tenant_id) if r["path"].endswith("/Payments")]
    assert [r["fault"] for r in log] == ["canned"]


def test_paging_stops_on_an_empty_page_whatever_page_count_says(env):
    empty = {"Invoices": [], "pagination": {"page": 1, "pageSize": 1000, "pageCount": 40,
                                            "itemCount": 40000}}
    _can(env, method="GET", path_prefix="/api.xro/2.0/Invoices", body=empty, count=-1)
    result = env.client().invoices()
    assert result.records == [] and result.calls == 1
    calls = [r for r in env.requests(tenant_id=env.tenant_id) if r["path"].endswith("/Invoices")]
    assert len(calls) == 1


def _problem(detail: str) -> dict:
    return {"Type": None, "Title": "Forbidden", "Status": 403, "Detail": detail,
            "Instance": "3c1b5d0e-7f0a-4a43-9d55-1a1b2c3d4e5f", "Extensions": {}}


def _status_after(env, sqlite_url, exc_type) -> str:
    env.add_connection("acme")
    platform = PlatformResource(database_url=sqlite_url)
    with platform.begin() as conn:
        connection = connections.get_connection(conn, "acme")
    with pytest.raises(dg.Failure) as failure:
        with xero_failures(), recording_refusals(platform.engine, connection):
            with pytest.raises(exc_type) as err:
                env.client().payments()
            raise err.value
    assert "partner acme" in failure.value.description
    return env.connection_status("acme")[0]


def test_403_authentication_unsuccessful_disconnects_the_partner(env, sqlite_url):
    _can(env, method="GET", path_prefix="/api.xro/2.0/Payments", status=403,
         body=_problem("AuthenticationUnsuccessful"))
    assert _status_after(env, sqlite_url, TenantDisconnected) == "disconnected"


@pytest.mark.parametrize(
    "body",
    [_problem("AuthorizationUnsuccessful"),
     {"type": "https://httpstatuses.com/403", "title": "Forbidden", "status": 403,
      "detail": "insufficient_scope: accounting.transactions.read"}],
)
def test_403_for_a_missing_scope_is_reported_as_such_and_keeps_the_connection(env, sqlite_url, body):
    _can(env, method="GET", path_prefix="/api.xro/2.0/Payments", status=403, body=body)
    assert _status_after(env, sqlite_url, XeroForbidden) == "connected"
    # The other endpoints still work: the partner was not disconnected.
    assert env.client().organisation().records
