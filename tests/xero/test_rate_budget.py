import datetime as dt
import threading

import pytest

from tests.xero.fakes import FakeClock
from xero_sync.core.errors import DailyLimitReached
from xero_sync.xero.rate_budget import RateBudget, budget_for


def _budget(clock: FakeClock, **kw) -> RateBudget:
    return RateBudget("t1", clock=clock.time, sleep=clock.sleep, **kw)


def test_paces_to_minute_limit_minus_reserve():
    clock = FakeClock()
    b = _budget(clock, minute_limit=10, reserve=2)
    for _ in range(8):
        with b.slot():
            pass
    assert clock.sleeps == []
    with b.slot():  # 9th call in the same minute waits for the window to reopen
        pass
    assert clock.sleeps == [60.0]
    snap = b.snapshot()
    assert snap["calls"] == 9 and snap["waited_seconds"] == 60.0


def test_low_minute_remaining_header_waits_for_window():
    clock = FakeClock()
    b = _budget(clock, reserve=2)
    with b.slot():
        pass
    clock.now += 10
    b.observe({"X-MinLimit-Remaining": "1", "X-DayLimit-Remaining": "4321", "X-AppMinLimit-Remaining": "9999"})
    with b.slot():
        pass
    assert clock.sleeps == [50.0]  # first call was at t0; window reopens at t0+60
    snap = b.snapshot()
    assert snap["minute_remaining"] == 1 and snap["day_remaining"] == 4321
    assert snap["app_minute_remaining"] == 9999


def test_header_plenty_remaining_does_not_wait():
    clock = FakeClock()
    b = _budget(clock)
    b.observe({"x-minlimit-remaining": "40"})
    with b.slot():
        pass
    assert clock.sleeps == []


def test_park_until_refuses_calls_until_time():
    clock = FakeClock()
    b = _budget(clock)
    resume = dt.datetime.fromtimestamp(clock.now + 3600, tz=dt.timezone.utc)
    b.park_until(resume)
    with pytest.raises(DailyLimitReached) as err:
        b.acquire()
    assert err.value.resume_at == resume and err.value.tenant_id == "t1"
    assert b.snapshot()["parked_until"] == resume.isoformat()
    clock.now += 3600
    with b.slot():
        pass
    assert b.snapshot()["calls"] == 1


def test_never_more_than_concurrent_limit_in_flight():
    clock = FakeClock()
    b = _budget(clock, concurrent_limit=2, minute_limit=1000)
    b.acquire()
    b.acquire()
    entered = threading.Event()

    def third():
        b.acquire()
        entered.set()

    t = threading.Thread(target=third)
    t.start()
    assert not entered.wait(0.2)  # blocked while two are in flight
    b.release()
    assert entered.wait(5)
    t.join()


def test_registry_shares_per_tenant_and_clock():
    c1, c2 = FakeClock(), FakeClock()
    assert budget_for("tx", clock=c1.time) is budget_for("tx", clock=c1.time)
    assert budget_for("tx", clock=c1.time) is not budget_for("tx", clock=c2.time)
    assert budget_for("tx", clock=c1.time) is not budget_for("ty", clock=c1.time)
