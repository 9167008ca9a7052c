"""XeroClient reads against the sandbox through the real SDK: paging, windows, If-Modified-Since."""

import datetime as dt
import math
from decimal import Decimal

from xero_sync.core.records import InvoiceRecord
from xero_sync.xero.windows import DateWindow

WHOLE_HISTORY = DateWindow(dt.date(2000, 1, 1), dt.date(2100, 1, 1))


def _api_requests(env, path_part: str) -> list[dict]:
    return [r for r in env.requests(tenant_id=env.tenant_id) if path_part in r["path"]]


def test_paging_2500_invoices_costs_exactly_ceil_n_over_1000_calls(make_env):
    env = make_env(invoices=2500, months=1)
    client = env.client()
    result = client.invoices(window=WHOLE_HISTORY)
    n = len(result.records)
    assert 2000 < n <= 3000
    assert result.calls == math.ceil(n / 1000) == 3
    assert len(_api_requests(env, "/Invoices")) == 3  # no extra empty-page call reached Xero
    assert len({r.invoice_id for r in result.records}) == n  # stable order: no duplicates
    assert all(isinstance(r, InvoiceRecord) and isinstance(r.total, Decimal) for r in result.records)
    assert client.stats()["calls"] == 3 and client.stats()["budget"]["day_remaining"] is not None


def test_small_window_is_one_call_and_only_that_month(env):
    client = env.client()
    every = client.invoices(window=WHOLE_HISTORY).records
    month = max(r.date for r in every).replace(day=1)
    window = DateWindow.month(month.year, month.month)
    result = client.invoices(window=window)
    assert result.calls == 1
    assert sorted(r.invoice_id for r in result.records) == sorted(
        r.invoice_id for r in every if window.start <= r.date < window.end
    )
    assert result.records


def test_modified_since_nothing_changed_is_one_call_zero_records(env):
    client = env.client()
    # The watermark a previous pull would keep: the newest UpdatedDateUTC seen.
    seen = client.invoices().records + client.payments().records
    since = max(r.updated_at for r in seen) + dt.timedelta(seconds=1)
    result = client.invoices(modified_since=since)
    assert (result.calls, result.records) == (1, [])
    window_and_since = client.payments(window=WHOLE_HISTORY, modified_since=since)
    assert (window_and_since.calls, window_and_since.records) == (1, [])
    sent = [r for r in _api_requests(env, "/Payments")][-1]
    assert "where" in sent["query"]


def test_contacts_include_archived_and_other_reads(env):
    client = env.client()
    contacts = client.contacts()
    assert contacts.calls == 1 and contacts.records
    assert "includeArchived" in _api_requests(env, "/Contacts")[-1]["query"]
    org = client.organisation().records[0]
    assert org.organisation_id == env.tenant_id and org.base_currency == "USD"
    accounts = client.accounts().records
    assert any(a.type == "BANK" for a in accounts)
    first = client.first_invoice_date()
    all_dates = [r.date for r in client.invoices(window=WHOLE_HISTORY).records]
    assert first == min(all_dates)
    assert client.credit_notes().calls == 1


def test_statuses_filter(env):
    client = env.client()
    result = client.invoices(statuses=["PAID"])
    assert result.records and {r.status for r in result.records} == {"PAID"}
