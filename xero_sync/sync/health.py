"""Partner health: one row per partner and the verdicts the data team acts on (pure, no I/O).

The store gives `PartnerFacts` (xero_sync.store.health.load_facts); `assess` turns them into a
`PartnerHealth` with the three check verdicts:
- sync_stale: a connected partner whose last successful pull is older than twice the incremental
  schedule's interval (15 min -> 30 min);
- writes_stuck: an outbox write on its way to Xero (pending, sending, unknown) older than
  `pending_write_after`;
- has_unexplained: the latest stored reconciliation diff holds unexplained differences.
Other facts (needs re-auth, parked, an open failure, most of the day's API calls spent, a
connected partner never reconciled or not for `reconcile_after`) make a row need attention
without failing a check. `worst_first` sorts rows for the table (`table_records`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SYNC_INTERVAL = dt.timedelta(minutes=15)  # incremental_sync_schedule's cron
# daily_reconciliation_schedule runs once a day: a reconciliation older than a day and a bit has
# missed its run.
RECONCILE_AFTER = dt.timedelta(hours=26)
TABLE_ROWS = 50  # partner_health's table shows the worst 50 partners (and counts the rest)
FAILURE_CELL_LIMIT = 300
DEFAULT_PENDING_WRITE_MINUTES = 30
XERO_DAILY_LIMIT = 5000  # calls per tenant per day (developer.xero.com/faq/limits)
API_ATTENTION_SHARE = 0.8  # most of the day's calls spent: the next big pull may park the partner
FAILURE_MESSAGE_LIMIT = 500

FAILING, ATTENTION, OK, INACTIVE = "failing", "attention", "ok", "not connected"
_RANK = {FAILING: 0, ATTENTION: 1, OK: 2, INACTIVE: 3}


@dataclass(frozen=True)
class Failure:
    """An open failure of one piece of work (sync/failure_policy.py)."""

    work: str  # its label: `xero_invoices 2024-01..2024-03`, `push_job`, `check:...`
    job: str
    at: dt.datetime
    message: str


@dataclass(frozen=True)
class PartnerFacts:
    """What the store knows about one partner, at one moment."""

    partner_id: str
    name: str
    status: str
    tenant_name: str | None = None
    months_done: int = 0
    months_total: int = 0
    last_sync_at: dt.datetime | None = None
    parked_until: dt.datetime | None = None
    outbox_by_status: Mapping[str, int] = field(default_factory=dict)
    oldest_pending_at: dt.datetime | None = None  # the oldest in-flight write's created_at (store.health)
    unexplained: int = 0
    diff_computed_at: dt.datetime | None = None
    api_calls_today: int = 0
    api_day_remaining: int | None = None  # Xero's X-DayLimit-Remaining, last seen today
    last_failure_job: str | None = None
    last_failure_at: dt.datetime | None = None
    last_failure_message: str | None = None
    shard: int = 0  # the shard whose code location holds the partner's partitions
    failures: tuple[Failure, ...] = ()  # open failures, newest first
    phase_successes: Mapping[str, dt.datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    sync_interval: dt.timedelta = SYNC_INTERVAL
    pending_write_after: dt.timedelta = dt.timedelta(minutes=DEFAULT_PENDING_WRITE_MINUTES)
    daily_limit: int = XERO_DAILY_LIMIT
    reconcile_after: dt.timedelta = RECONCILE_AFTER


@dataclass(frozen=True)
class PartnerHealth:
    facts: PartnerFacts
    verdict: str
    problems: tuple[str, ...]
    sync_stale: bool
    writes_stuck: bool
    has_unexplained: bool
    last_sync_age: dt.timedelta | None
    oldest_pending_age: dt.timedelta | None
    api_calls_used: int

    @property
    def partner_id(self) -> str:
        return self.facts.partner_id


def api_calls_used(facts: PartnerFacts, daily_limit: int = XERO_DAILY_LIMIT) -> int:
    """Our own count, or Xero's (limit - remaining) when Xero has seen more (other processes)."""
    xero_count = daily_limit - facts.api_day_remaining if facts.api_day_remaining is not None else 0
    return max(facts.api_calls_today, xero_count)


def assess(facts: PartnerFacts, now: dt.datetime, thresholds: Thresholds = Thresholds()) -> PartnerHealth:
    """The partner's verdict and the problems behind it, in words the data team can act on."""
    age = (now - facts.last_sync_at) if facts.last_sync_at else None
    pending_age = (now - facts.oldest_pending_at) if facts.oldest_pending_at else None
    used = api_calls_used(facts, thresholds.daily_limit)
    parked = facts.parked_until is not None and facts.parked_until > now

    stale = facts.status == "connected" and (age is None or age > 2 * thresholds.sync_interval)
    stuck = pending_age is not None and pending_age > thresholds.pending_write_after
    unexplained = facts.unexplained > 0

    problems: list[str] = []
    if stale:
        problems.append("never synced" if age is None else f"last sync {format_age(age)} ago")
    if stuck:
        problems.append(f"a write pending for {format_age(pending_age)}")
    if unexplained:
        problems.append(f"{facts.unexplained} unexplained difference(s)")
    warnings: list[str] = []
    if facts.status == "needs_reauth":
        warnings.append("needs re-authorisation")
    if facts.status == "disconnected":
        warnings.append("disconnected from Xero")
    if parked:
        warnings.append(f"parked until {facts.parked_until:%Y-%m-%d %H:%M} UTC")
    if facts.status == "connected" and facts.diff_computed_at is None:
        warnings.append("never reconciled")
    elif (facts.status == "connected" and facts.diff_computed_at is not None
          and now - facts.diff_computed_at > thresholds.reconcile_after):
        warnings.append(f"reconciled {format_age(now - facts.diff_computed_at)} ago")
    for failure in facts.failures:
        if not failure.work.startswith("check:"):  # a check's failure is a problem above
            warnings.append(f"failed: {failure.work}")
    if not facts.failures and facts.last_failure_at is not None:
        warnings.append(f"run failed: {facts.last_failure_job}")
    if used >= API_ATTENTION_SHARE * thresholds.daily_limit:
        warnings.append(f"{used} of {thresholds.daily_limit} API calls used today")

    if problems:
        verdict = FAILING
    elif warnings:
        verdict = ATTENTION
    elif facts.status == "not_connected":
        verdict = INACTIVE
    else:
        verdict = OK
    return PartnerHealth(facts, verdict, tuple(problems + warnings), stale, stuck, unexplained,
                         age, pending_age, used)


def worst_first(rows: Iterable[PartnerHealth]) -> list[PartnerHealth]:
    """Failing, then needing attention, then healthy, then not connected; within a verdict the
    row with more problems, then the longest without a sync, first."""
    never = dt.timedelta.max
    return sorted(rows, key=lambda r: (
        _RANK[r.verdict], -len(r.problems),
        -(r.last_sync_age if r.last_sync_age is not None else never).total_seconds()
        if r.facts.status == "connected" else 0.0,
        r.partner_id,
    ))


def format_age(age: dt.timedelta | None) -> str:
    if age is None:
        return "—"
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


def _outbox_cell(counts: Mapping[str, int]) -> str:
    shown = [f"{status} {n}" for status, n in sorted(counts.items()) if n]
    return ", ".join(shown) or "—"


def _cell(text: object) -> str:
    """Markdown-table safe: no pipes or newlines inside a cell."""
    return str(text).replace("|", "/").replace("\n", " ").strip()


HEADER = ("partner", "verdict", "problems", "shard", "status", "reconciled", "unexplained",
          "failures", "last success by phase", "months", "last pull", "parked until", "re-auth",
          "outbox", "oldest pending", "API calls today")
INTEGER_COLUMNS = ("shard", "unexplained")

# The cause at the start of a failure cell: an HTTP status, or an error class, anywhere in it.
_CAUSE = re.compile(r"\b(?:HTTP|status|answered|returned)\s*:?\s*([1-5]\d\d)\b|\b([1-5]\d\d) [A-Z][a-z]+"
                    r"|\b(\w+(?:Error|Exception|Unavailable|Forbidden|Reached|Reauth|Disconnected))\b")


def failure_text(work: str, message: str, at: dt.datetime | None = None,
                 limit: int = FAILURE_CELL_LIMIT) -> str:
    """`xero_invoices 2024-06 [HTTP 503] at 10:02: <message>`: what failed, its cause first (an
    HTTP status or error class found anywhere in the message), then the message, cut at `limit`."""
    found = _CAUSE.search(message or "")
    cause = ""
    if found:
        status = found.group(1) or found.group(2)
        cause = f" [HTTP {status}]" if status else f" [{found.group(3)}]"
    when = f" at {at:%Y-%m-%d %H:%M}" if at else ""
    text = f"{work}{cause}{when}: {' '.join((message or '').split())}"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _reconciled_cell(r: "PartnerHealth", now: dt.datetime) -> str:
    f = r.facts
    if f.diff_computed_at is None:
        return "never"
    result = f"{f.unexplained} unexplained" if f.unexplained else "ok"
    return f"{f.diff_computed_at:%Y-%m-%d %H:%M} ({format_age(now - f.diff_computed_at)} ago): {result}"


def _phases_cell(f: PartnerFacts, now: dt.datetime) -> str:
    return ", ".join(f"{phase} {format_age(now - at)} ago"
                     for phase, at in sorted(f.phase_successes.items())) or "—"


def _failures_cell(f: PartnerFacts) -> str:
    if f.failures:
        return "; ".join(failure_text(x.work, x.message, x.at) for x in f.failures[:3]) + (
            f"; and {len(f.failures) - 3} more" if len(f.failures) > 3 else "")
    if f.last_failure_at:
        return failure_text(f.last_failure_job or "", f.last_failure_message or "", f.last_failure_at)
    return "—"


def row_cells(r: "PartnerHealth", now: dt.datetime, daily_limit: int = XERO_DAILY_LIMIT) -> dict[str, str | int]:
    """One partner's row of the health table, by column (HEADER)."""
    f = r.facts
    last_pull = (f"{f.last_sync_at:%Y-%m-%d %H:%M} ({format_age(r.last_sync_age)} ago)"
                 if f.last_sync_at else "never")
    return {
        "partner": f.partner_id, "verdict": r.verdict, "problems": "; ".join(r.problems) or "—",
        "shard": f.shard, "status": f.status, "reconciled": _reconciled_cell(r, now),
        "unexplained": f.unexplained, "failures": _failures_cell(f),
        "last success by phase": _phases_cell(f, now),
        "months": f"{f.months_done} / {f.months_total}", "last pull": last_pull,
        "parked until": f"{f.parked_until:%Y-%m-%d %H:%M}" if f.parked_until else "—",
        "re-auth": "yes" if f.status == "needs_reauth" else "no",
        "outbox": _outbox_cell(f.outbox_by_status), "oldest pending": format_age(r.oldest_pending_age),
        "API calls today": f"{r.api_calls_used} / {daily_limit}",
    }


def markdown_table(rows: list[PartnerHealth], daily_limit: int = XERO_DAILY_LIMIT,
                   now: dt.datetime | None = None) -> str:
    """The health table as markdown, in the order given (pass worst_first(rows))."""
    if not rows:
        return "_no partners yet_"
    now = now or dt.datetime.now(dt.timezone.utc)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        cells = row_cells(r, now, daily_limit)
        lines.append("| " + " | ".join(_cell(cells[h]) for h in HEADER) + " |")
    return "\n".join(lines)


# Anything that looks like a credential: bearer tokens, key=value secrets, JWT-like blobs.
_SECRETS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)\b(access_token|refresh_token|id_token|client_secret|password|secret|"
               r"authorization|api[_-]?key)\b(\s*[\"']?\s*[:=]\s*[\"']?)[^\s\"',&}]+"),
    re.compile(r"\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{10,}\b"),  # JWT
    re.compile(r"(?i)(postgres(ql)?(\+\w+)?://[^:/\s]+:)[^@\s]+@"),  # passwords in DB URLs
)


def safe_failure_message(text: str | None, limit: int = FAILURE_MESSAGE_LIMIT) -> str:
    """A run failure's message fit for the connection record: secrets masked, one line, short."""
    message = " ".join((text or "").split())
    message = _SECRETS[0].sub(lambda m: f"{m.group(1)} ***", message)
    message = _SECRETS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}***", message)
    message = _SECRETS[2].sub("***", message)
    message = _SECRETS[3].sub(lambda m: f"{m.group(1)}***@", message)
    if len(message) > limit:
        message = message[: limit - 1].rstrip() + "…"
    return message or "(no message)"
