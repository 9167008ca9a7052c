"""sync.repair_rules: what each piece of evidence does to a repair row, and the manual-booking
warning's matching (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from xero_sync.sync import repair_rules as rr
from xero_sync.sync.diff_rows import rows

DAY = dt.date(2026, 11, 10)


def _diff(kind: str = "payout_not_recorded", subject: str = "po_1"):
    return rows(kind, "payout", [subject], platform_minor=None, action="push", detail="not in Xero")


@pytest.mark.parametrize("verdict, explained, action, proof", [
    (rr.GONE, False, "push", True),
    (rr.ABSENT, False, "push", True),
    (rr.IN_FLIGHT, True, "none: write in flight", False),
    (rr.PRESENT, True, "none: in Xero, not in the listing yet", False),
    (rr.UNCONFIRMED, False, "review: not confirmed by id", False),
    (rr.DELETED_AGAIN, False, "review: deleted in Xero again after its repair", False),
])
def test_each_verdict(verdict: str, explained: bool, action: str, proof: bool) -> None:
    out, proofs = rr.apply(_diff(), {"po_1": rr.Evidence("po_1", 7, verdict, "seen")})
    row = out.iloc[0]
    assert bool(row.explained) is explained and row.action.startswith(action)
    assert row.detail.startswith("not in Xero; seen") and len(row.action) <= 64
    assert ("outbox requeue 7" in row.detail) is action.startswith("review")
    assert ("po_1" in proofs) is proof


def test_no_evidence_no_change_and_a_manual_booking_turns_a_gone_payout_to_review() -> None:
    unchanged, proofs = rr.apply(_diff(), {})
    assert unchanged.equals(_diff()) and proofs == {}
    out, proofs = rr.apply(_diff(), {"po_1": rr.Evidence("po_1", 7, rr.GONE, "deleted")}, ["po_1"])
    assert out.iloc[0].action == "review: gone, and a possible manual booking"
    assert proofs == {}
    with pytest.raises(ValueError, match="unknown verdict"):
        rr.Evidence("po_1", 7, "maybe", "")


def test_manual_bookings_match_net_and_date_and_skip_ours() -> None:
    payouts = [rr.Payout("po_1", 3_900, DAY, "USD")]
    receives = [
        rr.Receive("t1", "Alternative payout", 3_900, DAY + dt.timedelta(days=5)),  # flagged
        rr.Receive("t2", "Alternative payout", 3_900, DAY + dt.timedelta(days=6)),  # too far
        rr.Receive("t3", "", 3_901, DAY),  # another amount
        rr.Receive("t4", "po_1", 3_900, DAY),  # our reference
        rr.Receive("t5", "bank", 3_900, DAY),  # one of our records
    ]
    out = rr.manual_bookings(payouts, receives, our_references=["po_1"], our_ids=["t5"])
    assert out["subject_id"].tolist() == ["po_1"] and out["explained"].all()
    assert "RECEIVE t1" in out.iloc[0].detail and out.iloc[0].kind == rr.MANUAL_BOOKING_KIND
    assert rr.manual_bookings(payouts, [], [], []).empty
