"""settle.Timing: what an unknown row may do at each moment, on both sides of every bound."""

from __future__ import annotations

import datetime as dt

import pytest

from xero_sync.store.outbox import OutboxRow
from xero_sync.push.settle import Timing, is_ambiguous

T0 = dt.datetime(2026, 11, 15, 12, tzinfo=dt.timezone.utc)
TIMING = Timing(in_flight_seconds=1040, key_window_seconds=330, read_lag_seconds=60)


def row(first: float | None = 0, last: float | None = 0) -> OutboxRow:
    def at(s: float | None) -> dt.datetime | None:
        return None if s is None else T0 + dt.timedelta(seconds=s)

    return OutboxRow(1, "acme", "payment", "p1", "k", "p1", {}, "unknown", 1, None, None, T0, T0,
                     request_key=None if first is None else "k1", request=None,
                     first_sent_at=at(first), sent_at=at(last), ever_unknown=True)


@pytest.mark.parametrize("seconds, expect", [
    (0, "wait"), (59, "wait"),  # a look-up could miss what was just written (L = 60 s)
    (60, "check"), (329, "check"),  # the key window (W = 330 s): look up, re-send if absent
    (330, "wait"), (1099, "wait"),  # key maybe forgotten, original maybe in flight (B + L)
    (1100, "look_up"), (5000, "look_up"),
])
def test_decide_on_both_sides_of_each_bound(seconds: float, expect: str) -> None:
    assert TIMING.decide(row(), T0 + dt.timedelta(seconds=seconds)) == expect


def test_a_re_send_moves_the_look_up_but_not_the_key_window() -> None:
    resent = row(first=0, last=200)  # re-sent at 200 s with the same key
    assert TIMING.decide(resent, T0 + dt.timedelta(seconds=259)) == "wait"
    assert TIMING.decide(resent, T0 + dt.timedelta(seconds=260)) == "check"
    assert TIMING.decide(resent, T0 + dt.timedelta(seconds=331)) == "wait"
    assert TIMING.next_step_at(resent, T0 + dt.timedelta(seconds=201)) == T0 + dt.timedelta(seconds=260)
    assert TIMING.next_step_at(resent, T0 + dt.timedelta(seconds=331)) == T0 + dt.timedelta(seconds=1300)
    resent = row(first=0, last=300)  # re-sent at 300 s: S + L is past the key window
    assert TIMING.decide(resent, T0 + dt.timedelta(seconds=330)) == "wait"
    assert TIMING.decide(resent, T0 + dt.timedelta(seconds=1399)) == "wait"
    assert TIMING.decide(resent, T0 + dt.timedelta(seconds=1400)) == "look_up"


def test_a_row_never_sent_has_nothing_in_flight() -> None:
    assert TIMING.decide(row(first=None, last=None), T0) == "look_up"


@pytest.mark.parametrize("message, ambiguous", [
    ("Payment amount exceeds the amount outstanding on this document", True),
    ("Idempotency Key k is in use by a request still being processed", True),
    ("Idempotency Key k is used with a different request", True),
    ("This payment has already been deleted", True),
    ("Account is not enabled for payments", False),
    ("Invoice not of valid status for modification", False),
])
def test_ambiguous_refusals(message: str, ambiguous: bool) -> None:
    assert is_ambiguous(message) is ambiguous
