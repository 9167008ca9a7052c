import datetime as dt
from decimal import Decimal

import pytest

from xero_sync.core.errors import MalformedXeroPayload
from xero_sync.xero.parse import loads, parse_collection, parse_date, parse_datetime, parse_invoice

INVOICE = {
    "InvoiceID": "inv-1",
    "InvoiceNumber": "INV-001",
    "Type": "ACCREC",
    "Status": "AUTHORISED",
    "Contact": {"ContactID": "c-1", "Name": "Acme"},
    "Date": "/Date(1704067200000+0000)/",
    "DueDate": "/Date(1706745600000+0000)/",
    "CurrencyCode": "USD",
    "SubTotal": 100.10,
    "TotalTax": 0.00,
    "Total": 100.10,
    "AmountDue": 60.05,
    "AmountPaid": 40.05,
    "AmountCredited": 0,
    "UpdatedDateUTC": "/Date(1704153600123+0000)/",
}


def _json(obj) -> bytes:
    import json

    return json.dumps(obj).encode()


def test_invoice_parses_exact_decimals_and_dates():
    records, notes, page = parse_collection(
        "Invoices", loads(_json({"Invoices": [INVOICE], "pagination": {"pageCount": 1}}))
    )
    inv = records[0]
    assert inv.total == Decimal("100.10") and inv.amount_due == Decimal("60.05")
    assert isinstance(inv.total, Decimal)
    assert inv.date == dt.date(2024, 1, 1) and inv.due_date == dt.date(2024, 2, 1)
    assert inv.updated_at == dt.datetime(2024, 1, 2, 0, 0, 0, 123000, tzinfo=dt.timezone.utc)
    assert notes == [] and page == {"pageCount": 1}


def test_drift_unknown_status_currency_and_field_reported_not_raised():
    data = dict(INVOICE, Status="FUTURE_STATUS", CurrencyCode="XYZ", ShinyNewField={"a": 1})
    notes: list = []
    inv = parse_invoice(loads(_json(data)), notes)
    assert inv.status == "FUTURE_STATUS" and inv.currency_code == "XYZ"
    assert sorted((n.field, n.value, n.kind) for n in notes) == [
        ("CurrencyCode", "XYZ", "unknown_enum"),
        ("ShinyNewField", "ShinyNewField", "unknown_field"),
        ("Status", "FUTURE_STATUS", "unknown_enum"),
    ]
    assert all(n.entity == "Invoice" and n.record_id == "inv-1" for n in notes)


@pytest.mark.parametrize("field", ["Total", "Date", "UpdatedDateUTC", "Status"])
def test_missing_required_field_names_entity_id_and_field(field):
    data = {k: v for k, v in INVOICE.items() if k != field}
    with pytest.raises(MalformedXeroPayload) as err:
        parse_invoice(loads(_json(data)), [])
    assert err.value.entity == "Invoice" and err.value.record_id == "inv-1"
    assert err.value.field == field and field in str(err.value)


def test_missing_nested_contact_id_is_named():
    data = dict(INVOICE, Contact={"Name": "x"})
    with pytest.raises(MalformedXeroPayload, match="Contact.ContactID"):
        parse_invoice(loads(_json(data)), [])


def test_unparseable_amount_is_malformed():
    with pytest.raises(MalformedXeroPayload, match="Total"):
        parse_invoice(dict(INVOICE, Total="twelve"), [])


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("/Date(1439434356790)/", dt.datetime(2015, 8, 13, 2, 52, 36, 790000, tzinfo=dt.timezone.utc)),
        ("/Date(1419937200000+0000)/", dt.datetime(2014, 12, 30, 11, 0, tzinfo=dt.timezone.utc)),
        ("/Date(1419937200000+1300)/", dt.datetime(2014, 12, 30, 11, 0, tzinfo=dt.timezone.utc)),
        ("2019-03-12T23:10:38Z", dt.datetime(2019, 3, 12, 23, 10, 38, tzinfo=dt.timezone.utc)),
        ("2019-03-12T23:10:38", dt.datetime(2019, 3, 12, 23, 10, 38, tzinfo=dt.timezone.utc)),
    ],
)
def test_parse_datetime_forms(raw, expected):
    assert parse_datetime(raw) == expected


def test_parse_date_forms():
    assert parse_date("/Date(1704067200000+0000)/") == dt.date(2024, 1, 1)
    assert parse_date("2024-01-31") == dt.date(2024, 1, 31)
    assert parse_date("2024-01-31T00:00:00") == dt.date(2024, 1, 31)


def test_collection_without_key_is_malformed():
    with pytest.raises(MalformedXeroPayload):
        parse_collection("Invoices", {"Contacts": []})


def test_credit_note_allocations_and_payment():
    cn = {
        "CreditNoteID": "cn-1", "Type": "ACCRECCREDIT", "Status": "PAID",
        "Contact": {"ContactID": "c-1"}, "Date": "/Date(1704067200000+0000)/",
        "CurrencyCode": "CAD", "Total": 10.5, "RemainingCredit": 0,
        "UpdatedDateUTC": "/Date(1704067200000+0000)/",
        "Allocations": [{"AllocationID": "a1", "Invoice": {"InvoiceID": "inv-1"},
                         "Amount": 10.5, "Date": "/Date(1704067200000+0000)/"}],
    }
    recs, notes, _ = parse_collection("CreditNotes", loads(_json({"CreditNotes": [cn]})))
    assert recs[0].allocations[0].amount == Decimal("10.5") and recs[0].allocations[0].invoice_id == "inv-1"
    bad = dict(cn, Allocations=[{"Amount": 1, "Date": "/Date(0)/"}])
    with pytest.raises(MalformedXeroPayload, match=r"Allocations\[0\].Invoice.InvoiceID"):
        parse_collection("CreditNotes", loads(_json({"CreditNotes": [bad]})))
    pay = {"PaymentID": "p1", "Date": "/Date(1704067200000+0000)/", "Amount": 5.25,
           "Status": "AUTHORISED", "UpdatedDateUTC": "/Date(1704067200000+0000)/",
           "Invoice": {"InvoiceID": "inv-1", "CurrencyCode": "USD"}, "Account": {"AccountID": "acc"},
           "Reference": "pay_1"}
    recs, notes, _ = parse_collection("Payments", loads(_json({"Payments": [pay]})))
    assert recs[0].amount == Decimal("5.25") and recs[0].currency_code == "USD" and notes == []
