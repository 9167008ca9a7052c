import http.client

import pytest
import urllib3.exceptions as u3

from tests.xero.fakes import FakeClock
from xero_sync.core.errors import (
    DailyLimitReached,
    NeedsReauth,
    OutcomeUnknown,
    TenantDisconnected,
    XeroNotFound,
    XeroUnavailable,
    XeroValidationError,
)
from xero_sync.xero.rate_budget import RateBudget
from xero_sync.xero.retry import HttpAnswer, RetryPolicy, classify, transport_kind


def A(status, headers=None, body=b""):
    return HttpAnswer.build(status, headers, body)


@pytest.mark.parametrize(
    "answer, action",
    [
        (A(429, {"X-Rate-Limit-Problem": "minute"}), "rate_wait"),
        (A(429, {"X-Rate-Limit-Problem": "concurrent"}), "rate_wait"),
        (A(429, {"X-Rate-Limit-Problem": "appminute"}), "rate_wait"),
        (A(429, {"X-Rate-Limit-Problem": "day"}), "day_limit"),
        (A(401), "refresh"),
        (A(403, {}, b'{"Title":"Forbidden","Status":403,"Detail":"AuthenticationUnsuccessful"}'),
         "disconnected"),
        # Only Xero's AuthenticationUnsuccessful means the tenant is gone (issue 10).
        (A(403), "forbidden"),
        (A(403, {}, b'{"Title":"Forbidden","Status":403,"Detail":"AuthorizationUnsuccessful"}'),
         "forbidden"),
        (A(403, {}, b'{"type":"https://httpstatuses.com/403","title":"insufficient_scope"}'), "forbidden"),
        (A(400), "validation"),
        (A(404), "not_found"),
        (A(500), "server"),
        (A(503), "server"),
        (A(418), "other"),
    ],
)
def test_classify(answer, action):
    assert classify(answer) == action


def test_transport_kinds():
    assert transport_kind(u3.NewConnectionError(None, "refused")) == "not_sent"
    assert transport_kind(u3.ReadTimeoutError(None, "/x", "read timed out")) == "lost"
    assert transport_kind(u3.ProtocolError("aborted")) == "lost"
    assert transport_kind(u3.MaxRetryError(None, "/x", u3.NewConnectionError(None, "r"))) == "not_sent"
    assert transport_kind(http.client.RemoteDisconnected()) == "lost"
    assert transport_kind(ValueError()) is None


class Script:
    """Answers (or raises) in order; counts calls."""

    def __init__(self, *steps):
        self.steps = list(steps)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step


def _policy(clock, **kw):
    budget = RateBudget("t1", clock=clock.time, sleep=clock.sleep)
    return RetryPolicy("t1", budget, sleep=clock.sleep, clock=clock.time, rng=lambda: 1.0, **kw), budget


def test_minute_429_sleeps_retry_after_then_succeeds():
    clock = FakeClock()
    policy, budget = _policy(clock)
    send = Script(A(429, {"X-Rate-Limit-Problem": "minute", "Retry-After": "17"}), A(200))
    assert policy.run("GET /Invoices", send).status == 200
    assert send.calls == 2 and clock.sleeps == [17.0]
    assert budget.snapshot()["waited_seconds"] == 17.0


def test_minute_429_bounded():
    clock = FakeClock()
    policy, _ = _policy(clock, max_rate_waits=2)
    send = Script(*[A(429, {"X-Rate-Limit-Problem": "minute", "Retry-After": "1"})] * 3)
    with pytest.raises(XeroUnavailable, match="rate limited"):
        policy.run("GET /Invoices", send)
    assert send.calls == 3


def test_day_429_raises_at_once_and_parks():
    clock = FakeClock()
    policy, budget = _policy(clock)
    send = Script(A(429, {"X-Rate-Limit-Problem": "day", "Retry-After": "66975"}))
    with pytest.raises(DailyLimitReached) as err:
        policy.run("GET /Invoices", send)
    assert send.calls == 1 and clock.sleeps == []
    assert err.value.resume_at.timestamp() == clock.now + 66975
    with pytest.raises(DailyLimitReached):  # parked: no further call reaches Xero
        policy.run("GET /Invoices", Script())


def test_5xx_backoff_full_jitter_then_unavailable():
    clock = FakeClock()
    policy, _ = _policy(clock, max_server_attempts=3, backoff_base=2.0)
    send = Script(A(503), A(500), A(502))
    with pytest.raises(XeroUnavailable) as err:
        policy.run("GET /Invoices", send)
    assert send.calls == 3 and clock.sleeps == [2.0, 4.0] and err.value.status == 502


def test_5xx_then_success():
    clock = FakeClock()
    policy, _ = _policy(clock)
    assert policy.run("GET /X", Script(A(500), A(200))).status == 200


def test_401_refreshes_once_then_needs_reauth():
    clock = FakeClock()
    policy, _ = _policy(clock)
    refreshes = []
    assert policy.run("GET /X", Script(A(401), A(200)), refresh=lambda: refreshes.append(1)).ok
    assert refreshes == [1]
    refreshes.clear()
    with pytest.raises(NeedsReauth):
        policy.run("GET /X", Script(A(401), A(401)), refresh=lambda: refreshes.append(1))
    assert refreshes == [1]


def test_403_400_404_mapped_without_retry():
    clock = FakeClock()
    policy, _ = _policy(clock)
    body403 = b'{"Title":"Forbidden","Status":403,"Detail":"AuthenticationUnsuccessful"}'
    with pytest.raises(TenantDisconnected, match="AuthenticationUnsuccessful"):
        policy.run("GET /X", Script(A(403, {}, body403)))
    body400 = (b'{"ErrorNumber":10,"Type":"ValidationException","Message":"A validation exception occurred",'
               b'"Elements":[{"ValidationErrors":[{"Message":"Payment amount exceeds the amount outstanding"}]}]}')
    with pytest.raises(XeroValidationError) as err:
        policy.run("PUT /Payments", Script(A(400, {}, body400)))
    assert err.value.messages == ["Payment amount exceeds the amount outstanding"]
    assert len(err.value.elements) == 1
    with pytest.raises(XeroNotFound):
        policy.run("GET /X", Script(A(404, {}, b"The resource you're looking for cannot be found")))
    assert clock.sleeps == []


def test_write_with_lost_response_is_outcome_unknown_not_retried():
    clock = FakeClock()
    policy, _ = _policy(clock)
    send = Script(u3.ReadTimeoutError(None, "/Payments", "timed out"), A(200))
    with pytest.raises(OutcomeUnknown, match="reference"):
        policy.run("PUT /Payments", send, is_write=True)
    assert send.calls == 1


def test_write_not_sent_is_retried_and_read_timeout_retried():
    clock = FakeClock()
    policy, _ = _policy(clock)
    send = Script(u3.NewConnectionError(None, "refused"), A(200))
    assert policy.run("PUT /Payments", send, is_write=True).ok and send.calls == 2
    send = Script(u3.ReadTimeoutError(None, "/x", "t"), u3.ProtocolError("x"), A(200))
    assert policy.run("GET /Invoices", send).ok and send.calls == 3


def test_messages_never_contain_tokens_or_tracebacks():
    clock = FakeClock()
    policy, _ = _policy(clock, max_server_attempts=1)
    with pytest.raises(XeroUnavailable) as err:
        policy.run("GET /Invoices", Script(u3.NewConnectionError(None, "refused")))
    assert "GET /Invoices" in str(err.value) and "t1" in str(err.value)


def test_longest_write_is_every_attempt_and_every_wait_at_their_maximum():
    clock = FakeClock()
    policy, _ = _policy(clock)
    # 4 server attempts + 5 rate waits + 1 refresh, each (5 + 60) s; 3 backoffs of 30 s; 5 waits of 60 s.
    assert policy.longest_write_seconds(65.0) == 10 * 65 + 3 * 30 + 5 * 60 == 1040


def test_a_write_never_waits_longer_than_its_cap_on_one_429():
    clock = FakeClock()
    policy, _ = _policy(clock)
    long_wait = A(429, {"X-Rate-Limit-Problem": "minute", "Retry-After": "200"})
    with pytest.raises(XeroUnavailable, match="longer than a write may wait"):
        policy.run("PUT /Payments", Script(long_wait), is_write=True)
    assert clock.sleeps == []
    send = Script(long_wait, A(200))  # a read waits it out
    assert policy.run("GET /Invoices", send).status == 200 and clock.sleeps == [200.0]


def test_409_on_a_write_is_in_progress_an_unknown_outcome():
    from xero_sync.core.errors import WriteInProgress

    clock = FakeClock()
    policy, _ = _policy(clock)
    body = b'{"Detail": "Idempotency Key k is in use by a request still being processed"}'
    with pytest.raises(WriteInProgress) as err:
        policy.run("PUT /Payments", Script(A(409, None, body)), is_write=True)
    assert isinstance(err.value, OutcomeUnknown) and "still being processed" in str(err.value)
