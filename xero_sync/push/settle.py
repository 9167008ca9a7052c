"""Settling writes whose outcome is unknown (a lost answer, a timeout, a pusher that died).

The timing, for a row first sent at F and last sent at S (both on the pusher's clock; the sandbox
clock in tests), with B = the client's longest possible write call, retries included
(`XeroClient.longest_write_seconds`: 1040 s with the default (5, 60) s timeouts), W = Xero's
Idempotency-Key window (6 min) less a safety margin = KEY_WINDOW_SECONDS (330 s), and L =
READ_LAG_SECONDS (60 s), Xero's read-after-write lag we allow for:

- now < S + B + L and now < F + W: the original may still be in flight, and Xero still remembers
  its key: re-send the *same request with the same key*. Xero replays the first answer (ids
  included), answers 409 "in progress" (the row stays unknown), or runs it if it never arrived.
- now < S + B + L and now >= F + W: the key may be forgotten and the original may still land:
  nothing is sent; the row waits (its error says until when).
- now >= S + B + L: the original has landed or never will, and what landed is visible: look it up
  by reference. Found: done, with Xero's ids. Not found: sent again — the same request and key if
  every write of it is missing, else the missing writes in a new request (the only time a row's
  key changes, and only after its original settled).

A refusal that could mean "your earlier write already applied" (AMBIGUOUS) on a row that was
ever unknown is not a verdict: the row stays unknown and is looked up again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xero_sync.platform.outbox import OutboxRow

KEY_WINDOW_SECONDS = 330.0  # Xero keeps a key ~6 min; 30 s margin for clock skew
READ_LAG_SECONDS = 60.0
# Refusals that may only mean an earlier request with this write already applied.
AMBIGUOUS = (
    "exceeds the amount outstanding",
    "overpayment",
    "is in use by a request still being processed",
    "is used with a different request",
    "already been",
    "already exists",
    "duplicate",
    "is not editable",
    "cannot be edited",
)


@dataclass(frozen=True)
class Timing:
    in_flight_seconds: float  # B: the client's longest write call
    key_window_seconds: float = KEY_WINDOW_SECONDS  # W
    read_lag_seconds: float = READ_LAG_SECONDS  # L

    def look_up_from(self, row: OutboxRow) -> dt.datetime:
        sent = row.sent_at or row.updated_at
        return sent + dt.timedelta(seconds=self.in_flight_seconds + self.read_lag_seconds)

    def key_window_until(self, row: OutboxRow) -> dt.datetime:
        first = row.first_sent_at or row.sent_at or row.updated_at
        return first + dt.timedelta(seconds=self.key_window_seconds)

    def decide(self, row: OutboxRow, now: dt.datetime) -> str:
        """'resend' (same request, same key), 'look_up' or 'wait' for an unknown row."""
        if row.sent_at is None:  # never sent by us: nothing of it can be in flight
            return "look_up"
        if now >= self.look_up_from(row):
            return "look_up"
        if now < self.key_window_until(row):
            return "resend"
        return "wait"


def is_ambiguous(message: str) -> bool:
    lowered = message.lower()
    return any(marker in lowered for marker in AMBIGUOUS)
