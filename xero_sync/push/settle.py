"""Settling writes whose outcome is unknown (a lost answer, a timeout, a pusher that died).

The timing, for a row first sent at F and last sent at S (both on the pusher's clock; the sandbox
clock in tests), with B = the client's longest possible write call, retries included
(`XeroClient.longest_write_seconds`: 1040 s with the default (5, 60) s timeouts), W = Xero's
Idempotency-Key window (6 min) less a safety margin = KEY_WINDOW_SECONDS (330 s), and L =
READ_LAG_SECONDS (60 s), Xero's read-after-write lag we allow for:

- now < S + L: a look-up could miss a write Xero has made but does not show yet; nothing is
  sent, the row waits (its error says until when). A listing that does not show a write yet is
  never evidence that it is missing.
- S + L <= now < F + W ('check'): look it up by reference first (one GET per batch). Found:
  done, with Xero's ids. Not found: the *same request with the same key* (Xero replays the
  first answer, answers 409 "in progress", or runs it if it never arrived). Part of a request
  found: the rest waits for the settle bound.
- F + W <= now < S + B + L: the key may be forgotten and the original may still land: nothing
  is sent; the row waits.
- now >= S + B + L ('look_up'): the original has landed or never will, and what landed is
  visible: look it up by reference. Found: done. Not found: sent again — the same request and key
  if every write of it is missing, else the missing writes in a new request (the only time a
  row's key changes, and only after its original settled).

So a re-send is made only after a look-up that found nothing, at least L after the last send,
with the key of the request it repeats: a duplicate needs Xero to forget that key early *and*
to hide the original longer than L (or to still process it past S + B *and* forget its key the
moment it answers) — never one wrong assumption alone.

A refusal that could mean "your earlier write already applied" (AMBIGUOUS) on a row that was
ever unknown is not a verdict: the row stays unknown and is looked up again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xero_sync.store.outbox import OutboxRow

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
        """S + B + L: the original has settled and what it made is visible."""
        sent = row.sent_at or row.updated_at
        return sent + dt.timedelta(seconds=self.in_flight_seconds + self.read_lag_seconds)

    def visible_from(self, row: OutboxRow) -> dt.datetime:
        """S + L: from then on a look-up sees what the last send made, if Xero has made it."""
        sent = row.sent_at or row.updated_at
        return sent + dt.timedelta(seconds=self.read_lag_seconds)

    def key_window_until(self, row: OutboxRow) -> dt.datetime:
        first = row.first_sent_at or row.sent_at or row.updated_at
        return first + dt.timedelta(seconds=self.key_window_seconds)

    def decide(self, row: OutboxRow, now: dt.datetime) -> str:
        """'check' (look up; re-send the same request with its key if none of it is there),
        'look_up' (settled: look up; send what is missing) or 'wait', for an unknown row."""
        if row.sent_at is None:  # never sent by us: nothing of it can be in flight
            return "look_up"
        if now >= self.look_up_from(row):
            return "look_up"
        if self.visible_from(row) <= now < self.key_window_until(row):
            return "check"
        return "wait"

    def next_step_at(self, row: OutboxRow, now: dt.datetime) -> dt.datetime:
        """When a waiting row may do something: look up inside the key window, else settle."""
        visible = self.visible_from(row)
        if now < visible < self.key_window_until(row):
            return visible
        return self.look_up_from(row)


def is_ambiguous(message: str) -> bool:
    lowered = message.lower()
    return any(marker in lowered for marker in AMBIGUOUS)
