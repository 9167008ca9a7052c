"""Property-based tests of the parser (issue 10): whatever Xero sends, a record comes back typed
as records.py says, or MalformedXeroPayload names the field; never another exception."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xero_sync.core.errors import MalformedXeroPayload
from xero_sync.xero.parse import MAX_AMOUNT, PARSERS, loads, parse_collection
from xero_sync.xero.writes import NewPayment, payment_results

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VALID = {
    "Invoices": {
        "InvoiceID": "i-1", "Type": "ACCREC", "Status": "AUTHORISED", "Contact": {"ContactID": "c-1"},
        "Date": "/Date(1704067200000+0000)/", "CurrencyCode": "USD", "Total": Decimal("10.00"),
        "AmountDue": Decimal("10.00"), "UpdatedDateUTC": "/Date(1704153600123+0000)/",
    },
    "Payments": {
        "PaymentID": "p-1", "Date": "/Date(1704067200000+0000)/", "Amount": Decimal("5.25"),
        "Status": "AUTHORISED", "UpdatedDateUTC": "2024-01-02T00:00:00",
        "Invoice": {"InvoiceID": "i-1", "CurrencyCode": "USD"}, "Account": {"AccountID": "a-1"},
    },
    "Contacts": {"ContactID": "c-1", "Name": "Acme", "UpdatedDateUTC": "/Date(1704153600123+0000)/"},
    "CreditNotes": {
        "CreditNoteID": "n-1", "Type": "ACCRECCREDIT", "Status": "AUTHORISED",
        "Contact": {"ContactID": "c-1"}, "Date": "2024-01-01", "CurrencyCode": "USD",
        "Total": 3, "UpdatedDateUTC": "/Date(1704153600123+0000)/",
        "Allocations": [{"Invoice": {"InvoiceID": "i-1"}, "Amount": Decimal("1.5"), "Date": "2024-01-02"}],
    },
}

json_scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=12)
                | st.decimals(allow_nan=True, allow_infinity=True)
                | st.sampled_from(["/Date(99999999999999999)/", "/Date(-99999999999999)/", "NaN",
                                   "1E+30", "10.001", "", "9999-12-31T23:59:59-05:00"]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def _check_types(record) -> None:
    """Every field of a parsed record has the type records.py declares (never a stringified dict)."""
    for name in record.__slots__:
        value = getattr(record, name)
        if name.endswith("_id") and value is not None:
            assert isinstance(value, str), (name, value)
        if isinstance(value, Decimal):
            assert value.is_finite() and abs(value) < MAX_AMOUNT and value == value.quantize(Decimal("0.01"))
        if name in ("date", "due_date", "fully_paid_on") and value is not None:
            assert isinstance(value, dt.date)
        if name == "updated_at":
            assert isinstance(value, dt.datetime) and value.tzinfo is not None


@FAST
@given(key=st.sampled_from(sorted(VALID)), data=st.data())
def test_any_value_in_any_field_parses_typed_or_raises_malformed(key, data):
    record = dict(VALID[key])
    field = data.draw(st.sampled_from(sorted(record)))
    record[field] = data.draw(json_values)
    try:
        records, _, _ = parse_collection(key, {key: [record]})
    except MalformedXeroPayload as exc:
        assert exc.field and exc.entity  # names where
        return
    _check_types(records[0])


@FAST
@given(amount=st.decimals(allow_nan=True, allow_infinity=True) | st.integers())
def test_an_amount_is_accepted_exactly_when_finite_in_range_and_exact_to_the_cent(amount):
    record = dict(VALID["Payments"], Amount=amount)
    good = (Decimal(amount).is_finite() and abs(Decimal(amount)) < MAX_AMOUNT
            and Decimal(amount) == Decimal(amount).quantize(Decimal("0.01")))
    try:
        [payment], _, _ = parse_collection("Payments", {"Payments": [record]})
    except MalformedXeroPayload as exc:
        assert not good and (exc.entity, exc.record_id, exc.field) == ("Payment", "p-1", "Amount")
    else:
        assert good and payment.amount == Decimal(amount)


@FAST
@given(text=st.sampled_from(["NaN", "Infinity", "-Infinity", "1E+30", "1e400", "10.001", "12.50"]))
def test_raw_json_number_literals_round_trip_or_are_named(text):
    body = '{"Payments": [' + json.dumps(VALID["Payments"], default=str).replace('"5.25"', text) + "]}"
    try:
        [payment], _, _ = parse_collection("Payments", loads(body))
    except MalformedXeroPayload as exc:
        assert text != "12.50" and exc.field == "Amount"
    else:
        assert text == "12.50" and payment.amount == Decimal("12.50")


@FAST
@given(elements=st.lists(json_values, min_size=1, max_size=3))
def test_payment_results_never_raise_anything_but_malformed(elements):
    sent = [NewPayment("i", "a", dt.date(2024, 1, 1), Decimal("1.00"), f"r{i}") for i in range(len(elements))]
    try:
        results = payment_results({"Payments": elements}, sent)
    except MalformedXeroPayload:
        return
    assert len(results) == len(sent)
    for result in results:
        assert result.payment_id is None or isinstance(result.payment_id, str)
        assert all(isinstance(m, str) for m in result.messages)


def test_every_parser_is_covered():
    assert set(VALID) <= set(PARSERS)
