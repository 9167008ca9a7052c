"""The Dagster UI in headless Chromium (Debian's, via Playwright; nothing downloaded) after the
headless onboarding of two partners: the partner_health table names both, a Connected partner's
partitions are 100% filled, and one partition's metadata carries that month's own counts.
Screenshots go to test-artifacts/dagster-ui/.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.dagster.dagster_ui import dagster_webserver
from tests.web.conftest import browser  # noqa: F401  (the shared Chromium fixture)
from xero_sync.assets.partner_health import partner_health
from xero_sync.store.schema import xero_invoices
from xero_sync.sync.month_slices import add_months, month_start

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dagster-ui"


def _metadata_value(page_text: str, key: str) -> str | None:
    """The value shown after a metadata key in the UI's metadata table (None if absent)."""
    lines = [line.strip() for line in page_text.splitlines() if line.strip()]
    for i, line in enumerate(lines[:-1]):
        if line == key:
            return lines[i + 1]
    return None


def test_dagster_ui_after_two_partners_onboarded(two_partners, browser):  # noqa: F811
    world = two_partners
    assert world.onboarding_failures == []
    assert dg.materialize([partner_health], instance=world.instance, resources=world.defs.resources).success
    # A month inside the recent range that is neither the first nor the current one: its
    # partition's metadata must be its own month's figures, not the range run's totals.
    month = add_months(month_start(dt.date.today()), -2)
    with world.engine.begin() as conn:
        own_invoices = conn.execute(sa.select(sa.func.count()).select_from(xero_invoices).where(
            xero_invoices.c.partner_id == "acme", xero_invoices.c.month == month)).scalar_one()
        all_acme = conn.execute(sa.select(sa.func.count()).select_from(xero_invoices).where(
            xero_invoices.c.partner_id == "acme")).scalar_one()
    assert 0 < own_invoices < all_acme

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    awaiting_h6: list[str] = []  # assertions that need issue 11's per-partition fixes (h6)
    with dagster_webserver(world.dagster_home) as base:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(45_000)  # a shared 2-core machine: the UI's first queries are slow
        page = context.new_page()
        try:
            # 1. partner_health: the table (a Dagster table) names both partners; neither was
            #    reconciled yet, which is attention, not "ok" (issue 20 item 1).
            page.goto(f"{base}/assets/partner_health")
            skip = page.locator("button:has-text('Skip')")  # Dagster's community dialog
            skip.wait_for()
            skip.click()
            page.wait_for_selector("tr:has-text('acme') >> text=connected")
            rows = [page.locator("tr:not(:has(tr))", has_text=p).filter(has_text="connected").first.inner_text()
                    for p in ("acme", "beta")]
            assert [r.split()[:2] for r in rows] == [["acme", "attention"], ["beta", "attention"]], rows
            assert all("never reconciled" in r and "connected" in r for r in rows), rows
            assert page.locator("text=Row count").count() == 1
            page.screenshot(path=str(ARTIFACTS / "01-partner-health.png"), full_page=True)

            # 2. A Connected partner's partitions are 100% filled (both partners are Connected).
            page.goto(f"{base}/assets/xero_invoices?view=lineage")
            page.wait_for_selector("text=% filled")
            filled = page.locator("text=% filled").first.inner_text()
            page.screenshot(path=str(ARTIFACTS / "02-xero-invoices-lineage.png"), full_page=True)
            if filled.strip() != "100% filled":
                awaiting_h6.append(f"xero_invoices shows {filled!r} for two Connected partners "
                                   "(months before the first transaction are not materialized-empty)")
            page.goto(f"{base}/assets/xero_invoices?view=partitions")
            page.wait_for_selector("text=Missing (")
            missing = page.locator("text=Missing (").first.inner_text()
            page.screenshot(path=str(ARTIFACTS / "03-xero-invoices-partitions.png"), full_page=True)
            if missing.strip() != "Missing (0)":
                awaiting_h6.append(f"the partitions view shows {missing!r}, expected 'Missing (0)'")

            # 3. One partition's metadata: that month's own counts.
            key = f"{month:%Y-%m-%d}|acme"
            page.goto(f"{base}/assets/xero_invoices?view=partitions&partition={key.replace('|', '%7C')}")
            page.wait_for_selector("text=records_pulled")
            text = page.inner_text("body")
            page.screenshot(path=str(ARTIFACTS / "04-partition-metadata.png"), full_page=True)
            assert key in text
            shown = _metadata_value(text, "records_pulled")
            if shown != str(own_invoices):
                awaiting_h6.append(f"partition {key} shows records_pulled {shown}, its month holds "
                                   f"{own_invoices} invoices (the run's totals instead of the month's own)")
        finally:
            context.close()
    assert awaiting_h6 == [], awaiting_h6
