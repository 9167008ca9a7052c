"""Exactly once in depth (issue 17, items 2 and 8): no single assumption — Xero's key window, its
read lag, the client's timeout — is the only thing between a lost answer and a duplicate.

Before any re-send of an `unknown` write the pusher looks it up by reference; only a look-up made
at least L after the last send counts (a listing that does not show a write yet is no evidence);
found → done with Xero's ids, not found and inside the key window → the same request with the
same key, otherwise it waits for the settle bound S + B + L and looks up again. The sandbox can
forget keys early (`POST /_sandbox/idempotency`), hide new records (`read_lag`) and apply a write
long after its answer was lost (`applied_late`). Time is the sandbox's frozen clock.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.push.world import World, build_world
from tests.sandbox_fixtures import control
from xero_sync.push.engine import push_partner
from xero_sync.push.settle import READ_LAG_SECONDS

LOOK_UP_AFTER = 1040 + READ_LAG_SECONDS  # S + B + L for the world's client (timeouts (5, 60) s)


@pytest.fixture
def world(sandbox_factory, store_engine) -> World:
    return build_world(sandbox_factory(invoices=200), store_engine, payments_code="615")


def every_payment(world: World) -> Counter:
    """Every payment Xero ever created, deleted ones included."""
    return Counter(p.reference for p in world.org.payments.values())


def payment_puts(world: World) -> list[dict]:
    return [e for e in world.server.sandbox.requests.entries(world.tenant_id)
            if e["method"] == "PUT" and e["path"].endswith("/Payments")]


def key_window(world: World, seconds: float) -> None:
    """Make the sandbox's Xero remember an Idempotency-Key only `seconds` after its answer."""
    control(world.server, "POST", "/idempotency", {"window_seconds": seconds})


def push(world: World):
    return push_partner(world.engine, world.client(), world.partner_id)


def assert_once(world: World, payment_ids: list[str]) -> None:
    every = every_payment(world)
    assert {p: every[p] for p in payment_ids} == {p: 1 for p in payment_ids}, \
        {p: every[p] for p in payment_ids if every[p] != 1}
    rows = {r.subject_id: r for r in world.outbox_rows()}
    live = {p.reference: p.payment_id for p in world.org.payments.values() if p.status != "DELETED"}
    for pid in payment_ids:
        assert rows[pid].status == "done" and rows[pid].xero_ids == {"PaymentID": live[pid]}


def test_item_2_a_lost_batch_of_40_is_looked_up_before_any_re_send(world: World) -> None:
    """Applied, answer lost; Xero forgets the key after 60 s (the pusher's window says 330 s) and
    hides the new payments for 45 s. 100 s later the pusher looks them up: all 40 found, no
    re-send. Before: the same request re-sent with a key Xero no longer knew — 40 duplicates."""
    paid = world.record_payments(40)
    key_window(world, 60)
    world.fault(kind="lost_response", count=1, method="PUT", path_prefix="/Payments")
    world.fault(kind="read_lag", count=1, delay=45, method="PUT", path_prefix="/Payments")
    first = push(world)
    assert first.unknown == 40 and len(payment_puts(world)) == 1

    world.advance(100)
    report = push(world)

    assert (report.found, report.payments_sent) == (40, 0), report
    assert len(payment_puts(world)) == 1
    assert_once(world, paid)


def test_item_2_a_look_up_inside_the_read_lag_is_no_evidence(world: World) -> None:
    """Xero forgets keys at once and hides the written payments for 45 s. A push right after the
    loss cannot tell "absent" from "not visible yet": it waits L, never re-sends blind."""
    paid = world.record_payments(5)
    key_window(world, 0)
    world.fault(kind="lost_response", count=1, method="PUT", path_prefix="/Payments")
    world.fault(kind="read_lag", count=1, delay=45, method="PUT", path_prefix="/Payments")
    push(world)

    at_once = push(world)
    assert (at_once.calls, at_once.waiting) == (0, 5), at_once
    assert "look it up" in world.outbox_rows()[0].error

    world.advance(READ_LAG_SECONDS)
    later = push(world)
    assert later.found == 5 and len(payment_puts(world)) == 1, later
    assert_once(world, paid)


def test_item_2_not_found_inside_the_key_window_is_re_sent_with_the_same_key(world: World) -> None:
    """The original changed nothing in Xero (a garbled answer, so its outcome is unknown): the
    look-up finds nothing, the same request goes out with the same key, once."""
    paid = world.record_payments(3)
    control(world.server, "POST", "/canned", {"tenant_id": world.tenant_id, "status": 200,
                                              "body": "<html>gateway</html>", "method": "PUT",
                                              "path_prefix": "/api.xro/2.0/Payments", "count": 1})
    assert push(world).unknown == 3
    keys = {e["idempotency_key"] for e in payment_puts(world)}

    world.advance(READ_LAG_SECONDS)
    report = push(world)

    assert report.replayed == 3 and report.found == 0, report
    assert {e["idempotency_key"] for e in payment_puts(world)} == keys
    assert len(payment_puts(world)) == 2
    assert_once(world, paid)


def test_item_8_an_original_answering_after_the_settle_bound_is_never_written_twice(world: World) -> None:
    """The interleaving behind the flaky `test_slow_answers_time_out_and_are_settled_by_reference`:
    Xero still processes the original when the pusher's settle bound S + B + L has passed on the
    sandbox clock (there: a 2 s slow answer while the test moved the clock 1,340 s). The look-up
    finds nothing; the original completes; the re-send with the same key arrives. The sandbox
    used to count the key's 6 minutes from the original's arrival, so the key was gone the moment
    the original answered and the re-send was written again. Forced here deterministically: the
    original lands 30 s after the look-up, while the re-send waits out a 30 s 429."""
    paid = world.record_payments(3)
    world.fault(kind="applied_late", count=1, delay=LOOK_UP_AFTER + 30, method="PUT",
                path_prefix="/Payments")
    first = push(world)
    assert first.unknown == 3

    world.advance(LOOK_UP_AFTER)  # settle bound reached; the original is still inside Xero
    world.fault(kind="rate_limit", count=1, retry_after=30, method="PUT", path_prefix="/Payments")
    report = push(world)

    puts = payment_puts(world)
    assert [e["applied_status"] for e in puts] == [202, 429, 200], (report, world.server.sandbox.requests.entries(world.tenant_id)[-6:])
    assert puts[-1]["replayed"] is True, puts[-1]
    assert report.replayed == 3, report
    assert_once(world, paid)
