"""partner_health: one row per partner, worst first; the page the data team opens first.

Business window: now. Each materialization reads the platform store's current state (connections,
outbox, the latest stored reconciliation diffs, today's API calls) and makes no Xero call; it is
idempotent (it only reads) and refreshed by `partner_health_schedule` every 5 minutes.
Three checks fail naming the partners: a connected partner not synced for twice the incremental
schedule's interval, a write to Xero pending for longer than `pending_write_minutes`, and
unexplained differences in a partner's latest reconciliation (each partner's own latest result,
store/partner_work.py, so one partner's pass never hides another's failure).

The table (`health`, a Dagster table with a schema) shows the worst TABLE_ROWS partners, each
naming its shard and, in `pages`, the URL of its months in its shard's assets (shards/ui_links.py;
the UI renders table cells as text, so `partner_pages` repeats the links as clickable markdown);
`partners_not_shown` counts the rest.
"""


import datetime as dt

import dagster as dg

from xero_sync.assets.table_metadata import OWNERS
from xero_sync.config import dagster_ui_url
from xero_sync.store import health as health_store
from xero_sync.resources.platform import PlatformResource
from xero_sync.shards import ui_links
from xero_sync.sync import health

GROUP = "health"

CHECKS = {
    "connected_partners_synced_recently": (
        "sync_stale",
        ("Fails when a connected partner's last successful pull is older than twice the "
        "incremental schedule's interval (15 min -> 30 min). Look at the partner's last failure, "
        "its latest incremental_cohort_job run (its cohort's), its connection (parked? needs "
        "re-auth?) and the schedule.")),
    "no_stale_pending_writes": (
        "writes_stuck",
        ("Fails when a write to Xero (outbox row pending, sending or unknown) is older than "
        "pending_write_minutes (default 30). Check payment_outbox_sensor and the partner's "
        "push_job runs.")),
    "no_unexplained_differences": (
        "has_unexplained",
        ("Fails when a partner's latest reconciliation diff holds unexplained differences: "
        "`xero-sync diff --partner P` lists them with the action to take.")),
}


PAGES = "pages"  # the partner's months in its shard's assets (ui_links.partner_months_url)
COLUMNS = (*health.HEADER[:health.HEADER.index("shard") + 1], PAGES,
           *health.HEADER[health.HEADER.index("shard") + 1:])


def _column(name: str) -> dg.TableColumn:
    if name == PAGES:
        return dg.TableColumn(name, "string", description="URL of the partner's months (xero_invoices "
                              "partitions, filtered to the partner) in its shard's code location")
    return dg.TableColumn(name, "int" if name in health.INTEGER_COLUMNS else "string")


_SCHEMA = dg.TableSchema(columns=[_column(name) for name in COLUMNS])


class PartnerHealthConfig(dg.Config):
    pending_write_minutes: int = health.DEFAULT_PENDING_WRITE_MINUTES
    sync_interval_minutes: int = int(health.SYNC_INTERVAL.total_seconds() // 60)
    daily_call_limit: int = health.XERO_DAILY_LIMIT
    reconcile_after_hours: int = int(health.RECONCILE_AFTER.total_seconds() // 3600)


@dg.asset(
    group_name=GROUP,
    check_specs=[dg.AssetCheckSpec(name, asset="partner_health", description=text)
                 for name, (_, text) in CHECKS.items()],
    kinds={"python", "sqlalchemy"},
    owners=OWNERS,
    metadata={"dagster/column_schema": _SCHEMA},
    description="One row per partner, worst first, with a link to its months in its shard's assets: "
                "connection status, months synced, last "
                "successful pull and its age, parked until, re-auth, outbox rows by state and the "
                "oldest pending write's age, the latest reconciliation (when, result), each phase's "
                "last success, open failures by work, API calls today vs the daily limit. "
                "Window: now (refreshed every 5 minutes).",
)
def partner_health(context: dg.AssetExecutionContext, config: PartnerHealthConfig,
                   platform: PlatformResource) -> dg.MaterializeResult:
    now = dt.datetime.now(dt.timezone.utc)
    base_url = dagster_ui_url()
    thresholds = health.Thresholds(
        sync_interval=dt.timedelta(minutes=config.sync_interval_minutes),
        pending_write_after=dt.timedelta(minutes=config.pending_write_minutes),
        daily_limit=config.daily_call_limit,
        reconcile_after=dt.timedelta(hours=config.reconcile_after_hours),
    )
    with platform.begin() as conn:
        facts = health_store.load_facts(conn, now)
    rows = health.worst_first(health.assess(f, now, thresholds) for f in facts)
    by_verdict = {v: sum(r.verdict == v for r in rows)
                  for v in (health.FAILING, health.ATTENTION, health.OK, health.INACTIVE)}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "partners_by_verdict": dg.MetadataValue.json(by_verdict),
            "health": health_table(rows[:health.TABLE_ROWS], now, thresholds.daily_limit, base_url),
            "partner_pages": dg.MetadataValue.md(partner_pages(rows[:health.TABLE_ROWS], base_url)),
            "partners_not_shown": max(0, len(rows) - health.TABLE_ROWS),
            "evaluated_at": now.isoformat(timespec="seconds"),
        },
        check_results=[_check(name, attr, rows) for name, (attr, _) in CHECKS.items()],
    )


def health_table(rows: list[health.PartnerHealth], now: dt.datetime, daily_limit: int,
                 base_url: str = "") -> dg.TableMetadataValue:
    """The rows as a Dagster table: health.row_cells plus the partner's `pages` link."""
    def record(r: health.PartnerHealth) -> dg.TableRecord:
        cells = health.row_cells(r, now, daily_limit)
        cells[PAGES] = ui_links.partner_months_url(base_url, r.facts.shard, r.partner_id)
        return dg.TableRecord({name: cells[name] for name in COLUMNS})
    return dg.MetadataValue.table([record(r) for r in rows], schema=_SCHEMA)


def partner_pages(rows: list[health.PartnerHealth], base_url: str = "") -> str:
    """The table's partners, worst first, each linked to its shard's pages (markdown links are
    clickable in the UI, table cells are not)."""
    if not rows:
        return "_no partners yet_"
    return "\n".join(
        f"- **{r.partner_id}** ({r.verdict}, shard {r.facts.shard}): "
        f"[months]({ui_links.partner_months_url(base_url, r.facts.shard, r.partner_id)}) · "
        f"[reconciliation]({ui_links.partner_diff_url(base_url, r.facts.shard, r.partner_id)})"
        for r in rows)


def _check(name: str, attr: str, rows: list[health.PartnerHealth]) -> dg.AssetCheckResult:
    failing = [r for r in rows if getattr(r, attr)]
    names = ", ".join(r.partner_id for r in failing)
    return dg.AssetCheckResult(
        check_name=name,
        passed=not failing,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{len(failing)} partner(s): {names}" if failing else "all partners pass",
        metadata={
            "partners": dg.MetadataValue.json([r.partner_id for r in failing]),
            "failing": len(failing),
            "details": dg.MetadataValue.md(
                "\n".join(f"- **{r.partner_id}**: {'; '.join(r.problems)}" for r in failing) or "none"),
        },
    )
