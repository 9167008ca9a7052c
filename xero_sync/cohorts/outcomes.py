"""What happened to each partner of a cohort run, and the run's verdict (pure: no Dagster).

A partner is `ok` (synced), `skipped` (no longer due when the run reached it: not connected any
more, or parked; not a failure) or `failed` (any error, with its message). The run fails after
every partner finished when at least one failed, naming them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

OK, SKIPPED, FAILED = "ok", "skipped", "failed"
_NAMED_IN_DESCRIPTION = 10


@dataclass(frozen=True)
class PartnerOutcome:
    partner_id: str
    status: str
    message: str = ""


def failure_text(exc: BaseException) -> str:
    """An error in words: a dg.Failure's description says what happened and what next (no
    traceback); anything else by its type and message."""
    description = getattr(exc, "description", None)
    if isinstance(description, str) and description:
        return description
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@dataclass(frozen=True)
class CohortSummary:
    ok: tuple[str, ...]
    skipped: tuple[str, ...]
    failed: tuple[PartnerOutcome, ...]

    @classmethod
    def of(cls, outcomes: Iterable[PartnerOutcome]) -> "CohortSummary":
        ordered = sorted(outcomes, key=lambda o: o.partner_id)
        return cls(tuple(o.partner_id for o in ordered if o.status == OK),
                   tuple(o.partner_id for o in ordered if o.status == SKIPPED),
                   tuple(o for o in ordered if o.status == FAILED))

    @property
    def total(self) -> int:
        return len(self.ok) + len(self.skipped) + len(self.failed)

    def line(self) -> str:
        return (f"{len(self.ok)} of {self.total} partners synced, {len(self.skipped)} skipped, "
                f"{len(self.failed)} failed")

    def describe_failures(self, message_chars: int = 200) -> str:
        """`2 of 100 partners failed (98 synced): beta: <message>; gamma: <message>`."""
        shown = "; ".join(f"{o.partner_id}: {o.message[:message_chars]}"
                          for o in self.failed[:_NAMED_IN_DESCRIPTION])
        more = len(self.failed) - _NAMED_IN_DESCRIPTION
        return (f"{len(self.failed)} of {self.total} partners failed ({len(self.ok)} synced, "
                f"{len(self.skipped)} skipped): {shown}" + (f"; and {more} more" if more > 0 else ""))

    def metadata(self) -> dict:
        return {"failed_partners": [o.partner_id for o in self.failed],
                "failures": {o.partner_id: o.message for o in self.failed},
                "synced_partners": len(self.ok), "skipped_partners": list(self.skipped)}
