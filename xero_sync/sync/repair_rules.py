"""What the diff may repair, and on what evidence (issue 17). Pure: no I/O.

A write of ours the diff cannot see in Xero (`payment_missing_in_xero`, `payout_not_recorded`)
is re-queued only on positive evidence that it is gone, gathered by push/repairs.py:

- GONE: the record it created, fetched by its Xero id, is DELETED or VOIDED;
- ABSENT: its ids were never learned, and a look-up by reference made after the settle bound
  (S + B + L, push/settle.py) found nothing.

Anything else is no evidence. IN_FLIGHT (younger than the settle bound, and not shown by id) and
PRESENT (shown by id or found by reference: the listing is behind) explain the row; UNCONFIRMED
(older than the settle bound, yet not shown by id) and DELETED_AGAIN (a repair that was deleted
again: a person overruled us twice) and a gone payout beside a possible manual booking of it get
a "review" action naming what was seen, and are never re-created by the diff: a person re-queues
them with `xero-sync outbox requeue ID`.

A possible manual booking (MANUAL_BOOKING_KIND) is a live RECEIVE into the deposit account of a
payout's net, dated within MANUAL_BOOKING_DAYS of the payout, carrying none of our references:
a warning, never a repair and never unexplained.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xero_sync.sync.diff_rows import DIFF_COLUMNS, rows

REPAIR_KINDS = ("payment_missing_in_xero", "payout_not_recorded")
MANUAL_BOOKING_KIND = "possible_manual_booking"
MANUAL_BOOKING_DAYS = 5

GONE, ABSENT = "gone", "absent"  # positive evidence: the write may be made again
IN_FLIGHT, PRESENT = "in_flight", "present"  # explained: nothing to do
UNCONFIRMED, DELETED_AGAIN = "unconfirmed", "deleted_again"  # a person decides
VERDICTS = (GONE, ABSENT, IN_FLIGHT, PRESENT, UNCONFIRMED, DELETED_AGAIN)
PROOF = (GONE, ABSENT)


@dataclass(frozen=True)
class Evidence:
    """What Xero said about one done write the diff cannot see."""

    subject_id: str
    outbox_id: int
    verdict: str  # one of VERDICTS
    seen: str  # what was seen, in words (kept on the diff row and on a repair's outbox row)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"evidence for {self.subject_id}: unknown verdict {self.verdict!r}")


def requeue_command(outbox_id: int) -> str:
    return f"xero-sync outbox requeue {outbox_id} --note ..."


# Actions fit the diff table's 64 characters; what a person needs to act goes in the detail.
def apply(diff: pd.DataFrame, evidence: Mapping[str, Evidence],
          manual_payouts: Iterable[str] = ()) -> tuple[pd.DataFrame, dict[str, Evidence]]:
    """The diff with each repair row's explanation and action set by its evidence, and the
    writes that may be re-queued (subject id -> evidence: GONE or ABSENT, and not a payout that
    may have been booked by hand)."""
    manual = set(manual_payouts)
    out = diff.copy()
    proofs: dict[str, Evidence] = {}
    if out.empty:
        return out, proofs
    candidates = out["kind"].isin(REPAIR_KINDS).to_numpy(dtype=bool) \
        & ~out["explained"].astype(bool).to_numpy()
    for i in np.flatnonzero(candidates):
        subject = str(out.at[i, "subject_id"])
        ev = evidence.get(subject)
        if ev is None:
            continue  # no write of ours to check (e.g. a payment that never had an outbox row)
        detail = f"{out.at[i, 'detail']}; {ev.seen}"
        explained, action = False, "push"
        requeue = f"; a person re-queues it with `{requeue_command(ev.outbox_id)}`"
        if ev.verdict in (IN_FLIGHT, PRESENT):
            explained = True
            action = "none: write in flight" if ev.verdict == IN_FLIGHT else \
                "none: in Xero, not in the listing yet"
        elif ev.verdict == UNCONFIRMED:
            action = "review: not confirmed by id in Xero"
            detail += f"; not re-created (not shown by id, or partly deleted){requeue}"
        elif ev.verdict == DELETED_AGAIN:
            action = "review: deleted in Xero again after its repair"
            detail += f"; deleted again: not re-created{requeue}"
        elif out.at[i, "kind"] == "payout_not_recorded" and subject in manual:
            action = "review: gone, and a possible manual booking"
            detail += f"; a RECEIVE of its net without our reference exists{requeue}"
        else:
            proofs[subject] = ev
        out.at[i, "explained"] = explained
        out.at[i, "action"] = action
        out.at[i, "detail"] = detail
    return out, proofs


@dataclass(frozen=True)
class Payout:
    payout_id: str
    net_minor: int
    paid_out_on: dt.date
    currency: str


@dataclass(frozen=True)
class Receive:
    """A live RECEIVE into the deposit account."""

    bank_transaction_id: str
    reference: str
    total_minor: int
    date: dt.date


def manual_bookings(payouts: Iterable[Payout], receives: Iterable[Receive],
                    our_references: Iterable[str], our_ids: Iterable[str],
                    days: int = MANUAL_BOOKING_DAYS) -> pd.DataFrame:
    """Warning rows (MANUAL_BOOKING_KIND), one per payout and matching RECEIVE that is not ours:
    none of our references, not one of the records our writes created."""
    refs, ids = set(our_references), set(our_ids)
    theirs = [r for r in receives
              if r.bank_transaction_id not in ids and (r.reference or "").strip() not in refs]
    found = [(p, r) for p in payouts for r in theirs
             if r.total_minor == p.net_minor and abs((r.date - p.paid_out_on).days) <= days]
    if not found:
        return rows("", "", pd.Series([], dtype=object), action="")[list(DIFF_COLUMNS)]
    return rows(
        MANUAL_BOOKING_KIND, "payout", [p.payout_id for p, _ in found],
        platform_minor=np.array([p.net_minor for p, _ in found], dtype=np.int64),
        xero_minor=np.array([r.total_minor for _, r in found], dtype=np.int64),
        currency=np.array([p.currency for p, _ in found], dtype=object),
        explained=True,
        action="warning: possible manual booking",
        detail=np.array([
            f"possible manual booking of payout {p.payout_id}: RECEIVE {r.bank_transaction_id} of "
            f"{r.total_minor} on {r.date.isoformat()} (reference {r.reference or 'none'!r}), "
            f"payout {p.paid_out_on.isoformat()}"
            for p, r in found], dtype=object),
    )
