"""What one push did, for logs, run metadata and tests."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PushReport:
    """What one push did, for logs and run metadata."""

    partner_id: str
    claimed: int = 0
    written: int = 0  # rows done by writes sent in this push
    found: int = 0  # rows done because the write was found in Xero by reference
    replayed: int = 0  # rows done by Xero's answer to a re-sent request (same key)
    rejected: int = 0
    unknown: int = 0
    waiting: int = 0  # waiting for accounts, or for the original of an unknown row to settle
    held: int = 0
    recovered: int = 0  # rows a pusher that is gone left `sending`
    calls: int = 0
    payments_sent: int = 0
    payment_calls: int = 0
    landed: int = 0  # Xero records landed from write answers
    messages: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.written + self.found + self.replayed

    def as_metadata(self) -> dict[str, int]:
        return {
            "claimed": self.claimed, "written": self.written, "found_by_reference": self.found,
            "replayed": self.replayed, "rejected": self.rejected, "unknown": self.unknown,
            "waiting": self.waiting, "held": self.held, "recovered": self.recovered,
            "calls": self.calls, "payments_sent": self.payments_sent,
            "payment_calls": self.payment_calls, "landed": self.landed,
        }
