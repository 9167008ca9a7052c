"""The events API's JSON endpoints on `xero-sync web`: service token (missing / wrong / right /
not configured), 201 with ids, 400 naming the field with nothing written, 404 for an unknown
partner, no cookies; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
import urllib3

from tests.events.test_events import snapshot
from tests.web.conftest import SMALL_SANDBOX, LiveServer, Web, make_web
from xero_sync.config import Settings
from xero_sync.store import schema
from xero_sync.store.connections import ensure_partner
from xero_sync.web.app import create_app

TOKEN = "svc-" + "k" * 40
BASE = "/api/partners/acme/events"


@pytest.fixture
def api(sandbox_factory, db_url, tmp_path, monkeypatch) -> Iterator[Web]:
    monkeypatch.setenv("XERO_SYNC_SERVICE_TOKEN", TOKEN)
    server = sandbox_factory(**SMALL_SANDBOX)
    for web in make_web(server, db_url, tmp_path, monkeypatch):
        with web.engine.begin() as conn:
            ensure_partner(conn, "acme", "Acme")
        yield web


def post(web: Web, event: str, body: object, token: str | None = TOKEN, partner: str = "acme",
         raw: bytes | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    data = raw if raw is not None else json.dumps(body)
    return web.app.test_client().post(f"/api/partners/{partner}/events/{event}", data=data,
                                      headers=headers, content_type="application/json")


INVOICE = {"number": "ALT-1", "currency": "USD", "amount": "250.00", "issue_date": "2026-11-10"}


def test_events_are_recorded_with_the_token(api: Web):
    answer = post(api, "invoice-created", INVOICE)
    assert answer.status_code == 201, answer.text
    assert answer.json == {"event": "invoice-created", "partner_id": "acme", "invoice_id": 1}
    assert "Set-Cookie" not in answer.headers
    # JSON numbers are read as Decimal: 100.10 is exact.
    paid = post(api, "payment-taken", {"payment_id": "pay_1", "invoice_id": 1, "amount": 100.10,
                                       "currency": "USD", "paid_on": "2026-11-11"})
    assert paid.status_code == 201 and paid.json["outbox_id"] == 1
    payout = post(api, "payout-sent", {"payout_id": "po_1", "currency": "USD", "payment_ids": ["pay_1"],
                                       "fees": "1.00", "paid_out_on": "2026-11-12"})
    assert payout.status_code == 201 and payout.json == {"event": "payout-sent", "partner_id": "acme",
                                                        "outbox_id": 2}
    with api.engine.connect() as conn:
        assert conn.execute(sa.select(schema.payments.c.amount_minor)).scalar_one() == 10_010
        assert conn.execute(sa.select(schema.payouts.c.net_minor)).scalar_one() == 9_910


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer"}, {"Authorization": "Bearer wrong"},
    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": f"Bearer {TOKEN[:-1]}"}, {"Authorization": TOKEN},
], ids=["none", "empty", "wrong", "basic", "longer", "shorter", "no-scheme"])
def test_without_the_right_token_401_and_nothing_written(api: Web, headers):
    before = snapshot(api.engine)
    answer = api.app.test_client().post(f"{BASE}/invoice-created", data=json.dumps(INVOICE),
                                        headers=headers, content_type="application/json")
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in answer.text
    assert snapshot(api.engine) == before
    # Not even the event names or partners are revealed.
    assert api.app.test_client().post("/api/partners/nobody/events/nope", headers=headers).status_code == 401


@pytest.mark.parametrize("token", [None, "", "short-token"], ids=["unset", "empty", "too-short"])
def test_without_a_configured_token_503_and_never_accepting(api: Web, monkeypatch, token):
    if token is None:
        monkeypatch.delenv("XERO_SYNC_SERVICE_TOKEN")
    else:
        monkeypatch.setenv("XERO_SYNC_SERVICE_TOKEN", token)
    app = create_app(Settings.from_env(), api.engine)  # the token is read with the other settings
    before = snapshot(api.engine)
    for sent in (None, "", token or "", TOKEN):
        answer = app.test_client().post(f"{BASE}/invoice-created", data=json.dumps(INVOICE),
                                        headers={"Authorization": f"Bearer {sent}"})
        assert answer.status_code == 503 and "XERO_SYNC_SERVICE_TOKEN" in answer.json["error"]
    assert snapshot(api.engine) == before


@pytest.mark.parametrize(("event", "body", "raw", "status", "field"), [
    ("invoice-created", INVOICE | {"amount": "1.001"}, None, 400, "amount"),
    ("invoice-created", INVOICE | {"amount": -5}, None, 400, "amount"),
    ("invoice-created", INVOICE | {"currency": "usd"}, None, 400, "currency"),
    ("invoice-created", INVOICE | {"number": "A'1"}, None, 400, "number"),
    ("invoice-created", INVOICE | {"surprise": 1}, None, 400, "surprise"),
    ("invoice-created", INVOICE | {"Sur'prise": 1}, None, 400, "body"),
    ("invoice-created", {"number": "N1"}, None, 400, "currency"),
    ("invoice-created", None, b'{"amount": NaN}', 400, "body"),
    ("invoice-created", None, b"not json", 400, "body"),
    ("invoice-created", None, b"[1, 2]", 400, "body"),
    ("invoice-created", None, b"\xff\xfe", 400, "body"),
    ("payment-taken", {"payment_id": "p1", "invoice_id": 1, "amount": "1", "currency": "USD",
                       "paid_on": "2026-11-11"}, None, 400, "invoice_id"),
    ("no-such-event", {}, None, 404, "event"),
])
def test_refusals_name_the_field_and_write_nothing(api: Web, event, body, raw, status, field, caplog):
    before = snapshot(api.engine)
    with caplog.at_level(logging.INFO):
        answer = post(api, event, body, raw=raw)
    assert answer.status_code == status, answer.text
    assert answer.json["field"] == field and answer.json["error"]
    assert snapshot(api.engine) == before
    assert TOKEN not in caplog.text


def test_unknown_partner_is_404_and_a_malformed_one_400(api: Web):
    answer = post(api, "invoice-created", INVOICE, partner="nobody")
    assert (answer.status_code, answer.json["field"]) == (404, "partner_id")
    answer = post(api, "invoice-created", INVOICE, partner="bad%20id")
    assert (answer.status_code, answer.json["field"]) == (400, "partner_id")


def test_other_http_errors_answer_json(api: Web):
    answer = api.app.test_client().get(f"{BASE}/invoice-created", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 405 and "error" in answer.json


def test_over_real_http_no_cookie_and_the_token_never_logged(api: Web, caplog):
    http = urllib3.PoolManager(retries=False)
    with caplog.at_level(logging.DEBUG), LiveServer(api.app) as server:
        url = f"{server.url}{BASE}/customer-created"
        ok = http.request("POST", url, body=json.dumps({"name": "Jane"}),
                          headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json",
                                   "Idempotency-Key": "cust-jane"})
        bad = http.request("POST", url, body=json.dumps({"name": "Jane"}),
                           headers={"Authorization": "Bearer nope"})
    assert (ok.status, json.loads(ok.data)) == (201, {"event": "customer-created", "partner_id": "acme",
                                                      "customer_id": 1})
    assert bad.status == 401
    assert "Set-Cookie" not in ok.headers and "Set-Cookie" not in bad.headers
    assert TOKEN not in caplog.text
