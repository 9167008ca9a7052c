"""Paging and month slices through the real SDK, the way the sync reads Xero."""

from __future__ import annotations

import datetime as dt

from tests.sandbox_fixtures import make_sdk

MONTH = "Date>=DateTime(2026,10,1)&&Date<DateTime(2026,11,1)"


def test_month_slice_pages_cover_the_unpaged_answer(sandbox_factory):
    sdk = make_sdk(sandbox_factory(invoices=600, months=6))
    everything = sdk.accounting.get_invoices(sdk.tenant_id, where=MONTH).invoices
    assert len(everything) > 20
    assert all(dt.date(2026, 10, 1) <= inv.date < dt.date(2026, 11, 1) for inv in everything)

    one_page = sdk.accounting.get_invoices(sdk.tenant_id, where=MONTH, page=1, page_size=1000)
    assert one_page.pagination.page == 1 and one_page.pagination.page_size == 1000
    assert one_page.pagination.page_count == 1
    assert one_page.pagination.item_count == len(everything)

    seen, page = [], 1
    while True:
        answer = sdk.accounting.get_invoices(sdk.tenant_id, where=MONTH, page=page, page_size=7)
        seen += [inv.invoice_id for inv in answer.invoices]
        if page >= answer.pagination.page_count:
            break
        page += 1
    assert page == -(-len(everything) // 7)
    assert sorted(seen) == sorted(inv.invoice_id for inv in everything)
    assert len(set(seen)) == len(seen)


def test_if_modified_since_through_the_sdk(sandbox_sdk):
    sdk = sandbox_sdk
    later = sdk.server.sandbox.clock.now() + dt.timedelta(days=1)
    answer = sdk.accounting.get_invoices(sdk.tenant_id, if_modified_since=later, page=1)
    assert answer.invoices == []
    earlier = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
    assert sdk.accounting.get_invoices(sdk.tenant_id, if_modified_since=earlier, page=1).invoices
