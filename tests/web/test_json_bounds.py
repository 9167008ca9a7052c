"""Issue 19: deeply nested JSON answers 400 (not 500 with a RecursionError) on the events API and
the webhook, and currency codes are ISO 4217 ("QQQ" refused). Real mode, over HTTP to waitress,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.web.real_mode import RealWeb, serve_real
from xero_sync.store import schema
from xero_sync.store.connections import ensure_partner
from xero_sync.web.webhooks import signature

TOKEN = "svc-" + "k" * 40
WEBHOOK_KEY = "real-webhook-key"  # tests.web.test_deployment.real_env
EVENTS = "/api/partners/acme/events"


@pytest.fixture
def api(db_url, tmp_path, monkeypatch) -> Iterator[RealWeb]:
    for web in serve_real(db_url, tmp_path, monkeypatch, XERO_SYNC_SERVICE_TOKEN=TOKEN):
        with web.engine.begin() as conn:
            ensure_partner(conn, "acme", "Acme")
        yield web


def _raw(web: RealWeb, path: str, body: bytes, headers: dict[str, str]):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(web.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    finally:
        conn.close()


def _count(web: RealWeb, table: sa.Table) -> int:
    with web.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


DEEP = [b"[" * 100_000 + b"]" * 100_000,  # past the decoder's recursion limit
        b'{"number": ' + b"[" * 200 + b"1" + b"]" * 200 + b"}"]  # decodes, but far deeper than any event


@pytest.mark.parametrize("body", DEEP, ids=["100000-deep", "200-deep"])
def test_deep_json_on_the_events_api_answers_400(api: RealWeb, body, caplog):
    """Seen: deeply nested JSON answered 500 with a RecursionError traceback in the log."""
    caplog.set_level(logging.INFO)
    status, text = _raw(api, f"{EVENTS}/invoice-created", body, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 400, text
    assert json.loads(text) == {"error": "JSON nested more than 16 levels deep", "field": "body"}
    assert "RecursionError" not in caplog.text and "Traceback" not in caplog.text
    assert _count(api, schema.invoices) == 0


@pytest.mark.parametrize("body", DEEP, ids=["100000-deep", "200-deep"])
def test_deep_json_on_the_webhook_with_a_valid_signature_answers_400(api: RealWeb, body, caplog):
    caplog.set_level(logging.INFO)
    status, _ = _raw(api, "/webhooks/xero", body, {"x-xero-signature": signature(WEBHOOK_KEY, body)})
    assert status == 400
    assert "RecursionError" not in caplog.text and "Traceback" not in caplog.text
    assert "nested more than 16 levels" in caplog.text
    assert _count(api, schema.webhook_events) == 0


def test_unknown_currency_codes_are_refused(api: RealWeb):
    """Seen: "QQQ" was accepted as a currency."""
    invoice = {"number": "ALT-1", "currency": "QQQ", "amount": "250.00", "issue_date": "2026-11-10"}
    status, text = _raw(api, f"{EVENTS}/invoice-created", json.dumps(invoice).encode(),
                        {"Authorization": f"Bearer {TOKEN}"})
    assert status == 400 and json.loads(text) == {"error": "QQQ is not an ISO 4217 currency code",
                                                  "field": "currency"}
    assert _count(api, schema.invoices) == 0
    status, _ = _raw(api, f"{EVENTS}/invoice-created", json.dumps({**invoice, "currency": "NZD"}).encode(),
                     {"Authorization": f"Bearer {TOKEN}"})
    assert status == 201 and _count(api, schema.invoices) == 1
