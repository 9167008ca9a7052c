"""Partner health: one row per partner and the verdicts the data team acts on (pure, no I/O).

The store gives `PartnerFacts` (xero_sync.platform.health.load_facts); `assess` turns them into a
`PartnerHealth` with the three check verdicts:
- sync_stale: a connected partner whose last successful pull is older than twice the incremental
  schedule's interval (15 min -> 30 min);
- writes_stuck: an outbox write on its way to Xero (pending, sending, unknown) older than
  `pending_write_after`;
- has_unexplained: the latest stored reconciliation diff holds unexplained differences.
Other facts (needs re-auth, parked, a failed run, most of the day's API calls spent) make a row
need attention without failing a check. `worst_first` sorts rows for the markdown table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SYNC_INTERVAL = dt.timedelta(minutes=15)  # incremental_sync_schedule's cron
DEFAULT_PENDING_WRITE_MINUTES = 30
XERO_DAILY_LIMIT = 5000  # calls per tenant per day (developer.xero.com/faq/limits)
API_ATTENTION_SHARE = 0.8  # most of the day's calls spent: the next big pull may park the partner
# Writes on their way to Xero; `waiting_accounts` waits for the partner's Set Up Accounts instead.
IN_FLIGHT_WRITES = ("pending", "sending", "unknown")
FAILURE_MESSAGE_LIMIT = 500

FAILING, ATTENTION, OK, INACTIVE = "failing", "attention", "ok", "not connected"
_RANK = {FAILING: 0, ATTENTION: 1, OK: 2, INACTIVE: 3}


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
    oldest_pending_at: dt.datetime | None = None  # the oldest IN_FLIGHT_WRITES row's created_at
    unexplained: int = 0
    diff_computed_at: dt.datetime | None = None
    api_calls_today: int = 0
    api_day_remaining: int | None = None  # Xero's X-DayLimit-Remaining, last seen today
    last_failure_job: str | None = None
    last_failure_at: dt.datetime | None = None
    last_failure_message: str | None = None
    shard: int = 0  # the shard whose code location holds the partner's partitions


@dataclass(frozen=True)
class Thresholds:
    sync_interval: dt.timedelta = SYNC_INTERVAL
    pending_write_after: dt.timedelta = dt.timedelta(minutes=DEFAULT_PENDING_WRITE_MINUTES)
    daily_limit: int = XERO_DAILY_LIMIT


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
    if facts.last_failure_at is not None:
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


HEADER = ("partner", "shard", "verdict", "status", "months", "last pull", "parked until", "re-auth",
          "outbox", "oldest pending", "unexplained", "API calls today", "last failure", "problems")


def markdown_table(rows: list[PartnerHealth], daily_limit: int = XERO_DAILY_LIMIT) -> str:
    """The health table as markdown, in the order given (pass worst_first(rows))."""
    if not rows:
        return "_no partners yet_"
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        f = r.facts
        last_pull = (f"{f.last_sync_at:%Y-%m-%d %H:%M} ({format_age(r.last_sync_age)} ago)"
                     if f.last_sync_at else "never")
        failure = (f"{f.last_failure_job} at {f.last_failure_at:%Y-%m-%d %H:%M}: "
                   f"{(f.last_failure_message or '')[:80]}" if f.last_failure_at else "—")
        cells = (
            f.partner_id, f.shard, r.verdict, f.status, f"{f.months_done} / {f.months_total}", last_pull,
            f"{f.parked_until:%Y-%m-%d %H:%M}" if f.parked_until else "—",
            "yes" if f.status == "needs_reauth" else "no",
            _outbox_cell(f.outbox_by_status), format_age(r.oldest_pending_age), f.unexplained,
            f"{r.api_calls_used} / {daily_limit}", failure, "; ".join(r.problems) or "—",
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
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
