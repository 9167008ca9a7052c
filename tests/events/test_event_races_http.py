"""The events API over real HTTP (`xero-sync web`'s production server, waitress, in a thread), 20
concurrent requests per case on SQLite and PostgreSQL (issue 18): one 201 for a payment two
payouts race for and 409 for the rest, never an invoice paid more than its total, every replay
answering the first answer with the same id, an Idempotency-Key required where nothing else
identifies what is created."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
import urllib3

from tests.web.conftest import SMALL_SANDBOX, LiveServer, Web, make_web
from xero_sync.store import schema
from xero_sync.store.connections import ensure_partner

TOKEN = "svc-" + "r" * 40
N = 20
DAY = "2026-11-10"


@pytest.fixture
def served(sandbox_factory, db_url, tmp_path, monkeypatch) -> Iterator[tuple[Web, str]]:
    monkeypatch.setenv("XERO_SYNC_SERVICE_TOKEN", TOKEN)
    server = sandbox_factory(**SMALL_SANDBOX)
    for web in make_web(server, db_url, tmp_path, monkeypatch):
        with web.engine.begin() as conn:
            ensure_partner(conn, "acme", "Acme")
            ensure_partner(conn, "beta", "Beta")
        with LiveServer(web.app) as live:
            yield web, live.url


def post(url: str, event: str, body: dict, *, partner: str = "acme", key: str | None = None,
         http: urllib3.PoolManager | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    answer = (http or urllib3.PoolManager(retries=False)).request(
        "POST", f"{url}/api/partners/{partner}/events/{event}", body=json.dumps(body), headers=headers)
    return answer.status, json.loads(answer.data)


def storm(url: str, requests: list[tuple[str, dict, str | None]]) -> list[tuple[int, dict]]:
    """Every request at once, one thread each."""
    barrier = threading.Barrier(len(requests))
    http = urllib3.PoolManager(maxsize=len(requests), retries=False)

    def one(request: tuple[str, dict, str | None]) -> tuple[int, dict]:
        event, body, key = request
        barrier.wait()
        return post(url, event, body, key=key, http=http)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(one, requests))


def statuses(answers: list[tuple[int, dict]]) -> Counter:
    return Counter(status for status, _ in answers)


def test_concurrent_events_over_http_keep_every_invariant(served):
    web, url = served
    assert post(url, "invoice-created", {"number": "ALT-1", "currency": "USD", "amount": "100.00",
                                         "issue_date": DAY})[0] == 201
    assert post(url, "payment-taken", {"payment_id": "pay_0", "invoice_id": 1, "amount": "10.00",
                                       "currency": "USD", "paid_on": DAY})[0] == 201

    # 20 different payments of 10.00 on 90.00 payable: 9 accepted, the rest refused (400, amount).
    paid = storm(url, [("payment-taken", {"payment_id": f"pay_{k + 1}", "invoice_id": 1, "amount": "10.00",
                                          "currency": "USD", "paid_on": DAY}, None) for k in range(N)])
    assert statuses(paid) == {201: 9, 400: 11}, paid
    assert {body["field"] for status, body in paid if status == 400} == {"amount"}
    taken = [f"pay_{k + 1}" for k, (status, _) in enumerate(paid) if status == 201]
    assert post(url, "invoice-created", {"number": "ALT-3", "currency": "USD", "amount": "10.00",
                                         "issue_date": DAY}) == (201, {"event": "invoice-created",
                                                                      "partner_id": "acme", "invoice_id": 2})

    # 20 payouts with different ids, all naming pay_0: one 201, the others 409 naming the payment.
    payouts = storm(url, [("payout-sent", {"payout_id": f"po_{k}", "currency": "USD", "payment_ids": ["pay_0"],
                                           "fees": "0.10", "paid_out_on": DAY}, None) for k in range(N)])
    assert statuses(payouts) == {201: 1, 409: N - 1}, payouts
    assert all("already in payout" in body["error"] for status, body in payouts if status == 409)

    # 20 identical invoices, customers (one key) and payments: each answered with the first id.
    for event, body, key, result in (
        ("invoice-created", {"number": "ALT-2", "currency": "USD", "amount": "5.00", "issue_date": DAY},
         None, "invoice_id"),
        ("customer-created", {"name": "Jane"}, "cust-jane-1", "customer_id"),
        ("payment-taken", {"payment_id": "pay_a", "invoice_id": 2, "amount": "10.00", "currency": "USD",
                           "paid_on": DAY}, None, "outbox_id"),
        ("payout-sent", {"payout_id": "po_a", "currency": "USD", "payment_ids": taken[:2],
                         "fees": "0", "paid_out_on": DAY}, None, "outbox_id"),
        ("payment-failed", {"payment_id": taken[2], "status": "refunded"}, "fail-1", "outbox_id"),
        ("invoice-edited", {"invoice_id": 3, "amount": "7.00", "due_date": "2026-12-31"}, None, "invoice_id"),
        ("archived", {"subject": "invoice", "subject_id": 3}, None, "subject_id"),
    ):
        answers = storm(url, [(event, body, key)] * N)
        assert statuses(answers) == {201: N}, answers
        assert answers[0][1]["event"] == event and result in answers[0][1]
        assert len({json.dumps(b, sort_keys=True) for _, b in answers}) == 1, answers
        again = post(url, event, body, key=key)  # a later retry: the same answer
        assert again == answers[0]

    p, i, c = schema.payments.c, schema.invoices.c, schema.customers.c
    with web.engine.connect() as conn:
        live = conn.execute(sa.select(sa.func.sum(p.amount_minor))
                            .where(p.invoice_id == 1, p.status == "succeeded")).scalar_one()
        outstanding = conn.execute(sa.select(i.outstanding_minor).where(i.invoice_id == 1)).scalar_one()
        numbered = conn.execute(sa.select(sa.func.count()).where(i.number == "ALT-2")).scalar_one()
        janes = conn.execute(sa.select(sa.func.count()).where(c.name == "Jane")).scalar_one()
        edited = conn.execute(sa.select(i.total_minor, i.outstanding_minor, i.archived)
                              .where(i.invoice_id == 3)).one()
        in_payouts = Counter(conn.execute(sa.select(p.payout_id).where(p.payout_id.is_not(None))).scalars())
    assert outstanding == 10_000 - live >= 0
    assert (numbered, janes) == (1, 1)
    assert tuple(edited) == (700, 700, True)
    assert in_payouts == {"po_a": 2, next(k for k in in_payouts if k != "po_a"): 1}


def test_customer_created_needs_a_key_and_a_reused_key_is_409(served):
    web, url = served
    status, body = post(url, "customer-created", {"name": "Jane"})
    assert (status, body["field"]) == (400, "idempotency_key")
    assert post(url, "customer-created", {"name": "Jane"}, key="k1")[0] == 201
    status, body = post(url, "customer-created", {"name": "Joe"}, key="k1")
    assert (status, body["field"]) == (409, "idempotency_key")
    # Another partner's keys and ids are its own.
    assert post(url, "customer-created", {"name": "Jane"}, key="k1", partner="beta")[0] == 201
    status, body = post(url, "customer-created", {"name": "Jane"}, key="has space")
    assert (status, body["field"]) == (400, "idempotency_key")
    with web.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.customers)).scalar_one() == 2


def test_payout_sent_takes_back_refunds_over_http(served):
    web, url = served
    post(url, "invoice-created", {"number": "ALT-1", "currency": "USD", "amount": "100.00", "issue_date": DAY})
    for pid, amount in (("pay_1", "30.00"), ("pay_2", "50.00")):
        assert post(url, "payment-taken", {"payment_id": pid, "invoice_id": 1, "amount": amount,
                                           "currency": "USD", "paid_on": DAY})[0] == 201
    assert post(url, "payout-sent", {"payout_id": "po_1", "currency": "USD", "payment_ids": ["pay_1"],
                                     "fees": "0", "paid_out_on": DAY})[0] == 201
    assert post(url, "payment-failed", {"payment_id": "pay_1", "status": "refunded"})[0] == 201
    body = {"payout_id": "po_2", "currency": "USD", "payment_ids": ["pay_2"], "refund_ids": ["pay_1"],
            "fees": "0.50", "paid_out_on": DAY}
    status, answer = post(url, "payout-sent", body)
    assert status == 201, answer
    assert post(url, "payout-sent", body) == (201, answer)
    with web.engine.connect() as conn:
        payload = conn.execute(sa.select(schema.outbox.c.payload)
                               .where(schema.outbox.c.outbox_id == answer["outbox_id"])).scalar_one()
    assert (payload["gross_minor"], payload["net_minor"], payload["refund_ids"]) == (2_000, 1_950, ["pay_1"])
    status, refused = post(url, "payout-sent", body | {"payout_id": "po_3", "payment_ids": ["pay_2"]})
    assert status == 409, refused
