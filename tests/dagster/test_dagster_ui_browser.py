"""The Dagster UI in headless Chromium (Debian's, via Playwright; nothing downloaded) after the
headless onboarding of two partners: the partner_health table names both, a Connected partner's
partitions are 100% filled, and one partition's metadata carries that month's own counts.

Then, with runs launched from the UI (issue 20, "Done when"): a failed `xero_invoices` range run
for acme, acme's reconciliation with an unexplained difference and beta's clean one (each
launched with the Materialize button), the run-status sensors ticked by the code location as the
daemon ticks them, and partner_health materialized from its page: acme stays failing with its
failed months and its red check, beta passes, and acme's link in the table opens acme's months.
Screenshots go to test-artifacts/dagster-ui/.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from tests.dagster.dagster_ui import (
    dagster_webserver,
    launch_asset_run,
    launch_runs_at_once,
    sensor_tick,
    wait_for_run,
)
from tests.sandbox_fixtures import control
from tests.web.conftest import browser  # noqa: F401  (the shared Chromium fixture)
from xero_sync.assets.partner_health import partner_health
from xero_sync.assets.xero_records import xero_records
from xero_sync.store import connections
from xero_sync.store.schema import invoices, xero_invoices
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
    launch_runs_at_once(world.dagster_home)
    with dagster_webserver(world.dagster_home, log_path=ARTIFACTS / "webserver.log") as base:
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

            _failures_stay_red_whatever_else_runs(world, page, base)
            _the_health_tables_link_opens_the_partners_months(page, base)
        except Exception:
            _shot(page, "99-where-it-failed")
            raise
        finally:
            context.close()
    assert awaiting_h6 == [], awaiting_h6


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _materialize_from_ui(page, url: str) -> str:
    """Open an asset page and press Materialize (then, for a partition, the dialog's "Launch 1 run"
    with the partition the page names preselected); the launched run's id."""
    page.goto(url)
    def is_launch(response) -> bool:
        return "/graphql" in response.url and "launchPipelineExecution" in (response.request.post_data or "")
    with page.expect_response(is_launch) as launched:
        page.get_by_role("button", name=re.compile(r"Materialize")).first.click()
        launch = page.get_by_role("button", name="Launch 1 run")
        if "partition=" in url:
            launch.click()
    answer = launched.value.json()["data"]["launchPipelineExecution"]
    assert answer["__typename"] == "LaunchRunSuccess", answer
    return answer["run"]["id"]  # the UI asks for the run's `id` (its run id)


def _health_row(page, partner: str) -> str:
    return page.locator("tr:not(:has(tr))", has_text=partner).filter(has_text="connected").first.inner_text()


def _failures_stay_red_whatever_else_runs(world, page, base: str) -> None:
    """Issue 20 items 2 and 3 in the UI: acme's failed xero_invoices range run (Xero's daily limit)
    is not cleared by materializing acme's reconciliation_diff from the UI (another asset, the
    same __ASSET_JOB); acme's unexplained difference stays red after beta's reconciliation passes."""
    failures = sensor_tick(base, "partner_run_failure_sensor", None)  # the daemon's first ticks
    successes = sensor_tick(base, "partner_run_success_sensor", None)

    # acme's last two months, as one run ("Launch as single run"), hit Xero's daily limit.
    current = month_start(dt.date.today())
    first, last = (f"{m:%Y-%m-%d}|acme" for m in (add_months(current, -1), current))
    control(world.server, "POST", "/faults", {"kind": "rate_limit", "problem": "day", "count": 1,
                                              "tenant_id": world.tenants["acme"], "retry_after": 60})
    backfill = launch_asset_run(base, [k.path for k in xero_records.keys], first, last)
    assert wait_for_run(page, backfill) == "FAILURE"
    with world.engine.begin() as conn:
        connections.unpark(conn, "acme")  # as if Xero's day had turned: the next runs may call it
    failures = sensor_tick(base, "partner_run_failure_sensor", failures)

    # acme's dashboard disagrees with Xero on one invoice; its reconciliation, then beta's, from the UI.
    with world.engine.begin() as conn:
        invoice_id = conn.execute(sa.select(invoices.c.invoice_id).where(
            invoices.c.partner_id == "acme", invoices.c.outstanding_minor > 0).limit(1)).scalar_one()
        conn.execute(sa.update(invoices).where(invoices.c.invoice_id == invoice_id)
                     .values(outstanding_minor=invoices.c.outstanding_minor - 1))
    for partner in ("acme", "beta"):
        run_id = _materialize_from_ui(page, f"{base}/assets/reconciliation_diff?view=partitions&partition={partner}")
        assert wait_for_run(page, run_id) == "SUCCESS", partner
    sensor_tick(base, "partner_run_success_sensor", successes)
    sensor_tick(base, "partner_run_failure_sensor", failures)

    # partner_health, materialized from its page: acme failing with its failed months, beta ok.
    health_run = _materialize_from_ui(page, f"{base}/assets/partner_health")
    assert wait_for_run(page, health_run) == "SUCCESS"
    page.goto(f"{base}/assets/partner_health")
    page.wait_for_selector("tr:has-text('acme') >> text=failing")
    _shot(page, "05-partner-health-after-ui-runs")
    acme, beta = _health_row(page, "acme"), _health_row(page, "beta")
    months = f"xero_invoices {first[:7]}..{last[:7]}"
    assert acme.split()[:2] == ["acme", "failing"], acme
    assert "unexplained difference(s)" in acme and f"failed: {months}" in acme, acme
    # The success sensor did see acme's reconciliation (its phase's success), and cleared nothing else.
    assert re.search(r"reconcile \d+m ago", acme), acme
    assert beta.split()[:2] == ["beta", "ok"], beta

    # The reconciliation's check, after beta passed last: failed, naming acme (and only acme).
    page.goto(f"{base}/assets/reconciliation_diff?view=checks")
    page.get_by_text(re.compile(r"partner\(s\) with unexplained differences: ")).wait_for()
    _shot(page, "06-reconciliation-checks")
    text = page.inner_text("body")
    assert re.search(r"no_unexplained_differences\s+Failed", text), text[:2000]
    assert "1 partner(s) with unexplained differences: acme (" in text, text[:2000]
    page.goto(f"{base}/assets/partner_health?view=checks")
    page.get_by_text("Latest execution").wait_for()
    _shot(page, "07-partner-health-checks")
    text = page.inner_text("body")
    assert re.search(r"no_unexplained_differences\s+Failed", text), text[:2000]


def _the_health_tables_link_opens_the_partners_months(page, base: str) -> None:
    """acme's `pages` cell is the URL of its months in its shard's assets; the `partner_pages`
    markdown beside the table links there too, and following it opens xero_invoices' partitions
    filtered to acme."""
    page.goto(f"{base}/assets/partner_health")
    page.wait_for_selector("tr:has-text('acme') >> text=failing")
    cell = _health_row(page, "acme")
    assert "/assets/xero_invoices?view=partitions&partner_range=acme" in cell, cell
    page.locator("li", has_text="acme").get_by_role("link", name="months").click()
    page.wait_for_url(re.compile(r"/assets/xero_invoices\?view=partitions&partner_range=acme"))
    page.wait_for_selector("text=Missing (")
    _shot(page, "08-acme-months-from-partner-health")
    text = page.inner_text("body")
    assert "xero_invoices" in text and "acme" in text and "beta" not in text, text[:2000]
    assert "Failed (2)" in text, text[:2000]  # acme's two failed months, in Dagster's own view
