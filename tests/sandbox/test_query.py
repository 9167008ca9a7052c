"""The where/order/paging language of the sandbox's list endpoints."""

import datetime as dt
from decimal import Decimal

import pytest

from xero_sandbox.query import (
    QueryError, compile_where, date_range, page_args, paginate, parse_if_modified_since,
    parse_where, sort_records,
)

UTC = dt.timezone.utc
FIELDS = {
    "Date": lambda r: r["date"], "Status": lambda r: r["status"],
    "Contact.ContactID": lambda r: r["contact"], "AmountDue": lambda r: r["due"],
    "IsSupplier": lambda r: r["supplier"], "Reference": lambda r: r["ref"],
    "UpdatedDateUTC": lambda r: r["updated"],
}
REC = {"date": dt.date(2024, 1, 15), "status": "AUTHORISED", "contact": "ab-12", "due": Decimal("10.50"),
       "supplier": False, "ref": "PO-7", "updated": dt.datetime(2024, 1, 15, 9, tzinfo=UTC)}


@pytest.mark.parametrize("where, expected", [
    ('Status=="AUTHORISED"', True),
    ('Status == "PAID"', False),
    ('Status!="PAID"', True),
    ("Date >= DateTime(2024, 01, 01) && Date < DateTime(2024, 02, 01)", True),
    ("Date >= DateTime(2024,01,16) and Date < DateTime(2024,02,01)", False),
    ("Date == DateTime(2024,01,15)", True),
    ('Status=="PAID" or Status=="AUTHORISED"', True),
    ('Status=="PAID" || (AmountDue > 10 && AmountDue <= 10.50)', True),
    ('Contact.ContactID==Guid("AB-12")', True),
    ("IsSupplier==false", True),
    ("IsSupplier==true", False),
    ("UpdatedDateUTC > DateTime(2024,01,15,08,59,59)", True),
    ("UpdatedDateUTC >= DateTime(2024,01,15,09,00,01)", False),
    ('Reference.StartsWith("PO")', True),
    ('Reference.Contains("x")', False),
])
def test_where_evaluates_like_xero(where, expected):
    predicate = compile_where(where, FIELDS)
    assert predicate is not None and predicate(REC) is expected


@pytest.mark.parametrize("where", ["Date >>", 'Status=="PAID" &&', "Nope==1", "DateTime(2024,1,1)",
                                   "Date > DateTime(2024,13,1)", '(Status=="PAID"'])
def test_bad_where_raises_query_error_naming_the_expression(where):
    with pytest.raises(QueryError) as err:
        compile_where(where, FIELDS)
    assert where in str(err.value)


def test_date_range_extracts_conjunctive_month_bounds():
    tree = parse_where('Date>=DateTime(2024,03,01)&&Date<DateTime(2024,04,01)&&Status=="PAID"')
    assert date_range(tree, "Date") == (dt.date(2024, 3, 1), dt.date(2024, 4, 1))
    assert date_range(parse_where("Date<=DateTime(2024,03,31)"), "Date") == (None, dt.date(2024, 4, 1))
    assert date_range(parse_where('Date>=DateTime(2024,03,01) or Status=="PAID"'), "Date") is None


def test_default_order_is_updated_then_id_and_order_param_overrides():
    t = dt.datetime(2024, 1, 1, tzinfo=UTC)
    rows = [{"id": "b", "updated": t, "date": dt.date(2024, 1, 2)},
            {"id": "a", "updated": t, "date": dt.date(2024, 1, 3)},
            {"id": "c", "updated": t - dt.timedelta(seconds=1), "date": dt.date(2024, 1, 1)}]
    fields = {"UpdatedDateUTC": lambda r: r["updated"], "Date": lambda r: r["date"]}
    ids = lambda rs: [r["id"] for r in rs]  # noqa: E731
    assert ids(sort_records(rows, None, fields, lambda r: r["id"], lambda r: r["updated"])) == ["c", "a", "b"]
    assert ids(sort_records(rows, "Date DESC", fields, lambda r: r["id"], lambda r: r["updated"])) == ["a", "b", "c"]
    with pytest.raises(QueryError):
        sort_records(rows, "Date SIDEWAYS", fields, lambda r: r["id"], lambda r: r["updated"])


def test_paging_clamps_page_size_and_reports_counts():
    assert page_args(None, "5") is None
    assert page_args("2", "5000") == (2, 1000)
    assert page_args("1", "0") == (1, 1)
    assert page_args("1", None) == (1, 100)
    page, block = paginate(list(range(250)), (3, 100))
    assert list(page) == list(range(200, 250))
    assert block == {"page": 3, "pageSize": 100, "pageCount": 3, "itemCount": 250}
    with pytest.raises(QueryError):
        page_args("x", None)


def test_if_modified_since_accepts_iso_and_http_dates():
    assert parse_if_modified_since("2023-11-01T00:00:00+00:00") == dt.datetime(2023, 11, 1, tzinfo=UTC)
    assert parse_if_modified_since("2023-11-01T10:00:00.750") == dt.datetime(2023, 11, 1, 10, tzinfo=UTC)
    assert parse_if_modified_since("Wed, 01 Nov 2023 10:00:00 GMT") == dt.datetime(2023, 11, 1, 10, tzinfo=UTC)
    assert parse_if_modified_since(None) is None
    with pytest.raises(QueryError):
        parse_if_modified_since("yesterday")
