"""The headless demo's summary says what each count counts, and the counts are the organisation's."""

from __future__ import annotations

from xero_sync.demo.main import drive_headless, summary


def test_the_summary_names_what_each_invoice_count_counts(world):
    assert drive_headless(world.instance, world.defs, world.engine, world.partner_id) == []
    text = summary(world.engine, world.partner_id, api_calls=0)
    invoices = list(world.org.invoices.values())
    sales = [i for i in invoices if i.type == "ACCREC"]
    bills = [i for i in invoices if i.type == "ACCPAY"]
    approved = [i for i in sales if i.status in ("AUTHORISED", "PAID")]
    unapproved = [i for i in sales if i.status in ("DRAFT", "SUBMITTED")]
    gone = [i for i in sales if i.status in ("VOIDED", "DELETED")]
    assert len(approved) + len(unapproved) + len(gone) == len(sales)
    assert (f"xero invoices  {len(invoices)} landed = {len(sales)} sales invoices (ACCREC: "
            f"{len(approved)} approved, {len(unapproved)} draft or submitted, {len(gone)} voided or deleted)"
            f" + {len(bills)} supplier bills (ACCPAY)") in text
    assert f"dashboard      {len(approved)} invoices (the approved sales invoices; drafts, voided, deleted and bills are not synced)" in text
