"""Xero webhooks: signature check, intent-to-receive, durable storage, and the sandbox's own signed
delivery → xero_webhook_sensor → incremental_sync_job bringing the edited invoice into the store."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request
from collections.abc import Callable

import dagster as dg
import sqlalchemy as sa

from tests.sandbox_fixtures import control
from tests.web.conftest import SMALL_SANDBOX, LiveServer, make_web
from xero_sync.config import DEMO_WEBHOOK_KEY
from xero_sync.demo.main import drive_headless
from xero_sync.definitions import build_defs
from xero_sync.store import schema
from xero_sandbox.clock import Clock
from xero_sync.sensors.webhooks import xero_webhook_sensor
from xero_sync.web.webhooks import signature

TENANT = "0e55f757-b845-4dd9-936f-df80fd422fb5"


def payload(*events: dict) -> bytes:
    return json.dumps({"events": list(events), "firstEventSequence": 1, "lastEventSequence": len(events),
                       "entropy": "QWERTYUIOPASDFGHJKLZ"}, separators=(",", ":")).encode()


def event(category: str = "INVOICE", tenant_id: str = TENANT, resource_id: str = "inv-1") -> dict:
    return {"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource_id}", "resourceId": resource_id,
            "eventDateUtc": "2026-11-15T12:00:01.123", "eventType": "UPDATE", "eventCategory": category,
            "tenantId": tenant_id, "tenantType": "ORGANISATION"}


def post(client, body: bytes, sig: str | None):
    headers = {"Content-Type": "application/json"}
    if sig is not None:
        headers["x-xero-signature"] = sig
    return client.post("/webhooks/xero", data=body, headers=headers)


def stored(web) -> list[tuple]:
    t = schema.webhook_events
    with web.engine.begin() as conn:
        query = sa.select(t.c.tenant_id, t.c.category, t.c.event_type, t.c.resource_id, t.c.event_date)
        return [tuple(r) for r in conn.execute(query.order_by(t.c.event_id))]


def test_valid_signature_stores_events_and_answers_empty_200_without_cookies(web):
    client = web.app.test_client()
    body = payload(event("INVOICE"), event("CONTACT", resource_id="c-1"))
    answer = post(client, body, signature(DEMO_WEBHOOK_KEY, body))
    assert answer.status_code == 200
    assert answer.data == b""
    assert "Set-Cookie" not in answer.headers
    assert stored(web) == [
        (TENANT, "INVOICE", "UPDATE", "inv-1", dt.datetime(2026, 11, 15, 12, 0, 1, 123000, tzinfo=dt.timezone.utc)),
        (TENANT, "CONTACT", "UPDATE", "c-1", dt.datetime(2026, 11, 15, 12, 0, 1, 123000, tzinfo=dt.timezone.utc)),
    ]


def test_signature_is_over_the_raw_bytes(web):
    client = web.app.test_client()
    body = payload(event())
    reformatted = json.dumps(json.loads(body), indent=2).encode()  # same JSON, other bytes
    assert post(client, reformatted, signature(DEMO_WEBHOOK_KEY, body)).status_code == 401
    assert stored(web) == []


def test_invalid_or_missing_signature_is_401_and_stores_nothing(web):
    client = web.app.test_client()
    body = payload(event())
    for sig in (signature("another-key", body), "", None, "not base64 at all ✓"):
        answer = post(client, body, sig)
        assert answer.status_code == 401, sig
        assert "Set-Cookie" not in answer.headers
    assert stored(web) == []


def test_intent_to_receive(web):
    client = web.app.test_client()
    body = json.dumps({"events": [], "firstEventSequence": 0, "lastEventSequence": 0,
                       "entropy": "ABCDEFGHIJKLMNOPQRST"}).encode()
    good = post(client, body, signature(DEMO_WEBHOOK_KEY, body))
    assert (good.status_code, good.data) == (200, b"")
    assert post(client, body, signature("wrong", body)).status_code == 401
    assert stored(web) == []


def test_intent_to_receive_from_the_sandbox_over_http(web, live_web):
    control(web.sandbox, "POST", "/webhooks", {"url": f"{live_web.url}/webhooks/xero", "key": DEMO_WEBHOOK_KEY})
    result = control(web.sandbox, "POST", "/webhooks/intent")
    assert result == {"ok": True, "valid_signature_status": 200, "invalid_signature_status": 401}


def test_malformed_json_with_valid_signature_is_400_and_logged(web, caplog):
    client = web.app.test_client()
    for body, reason in ((b"{not json", "not JSON"), (b'{"events": {}}', '"events" list'),
                         (payload({"eventCategory": "INVOICE"}), "lacks tenantId")):
        answer = post(client, body, signature(DEMO_WEBHOOK_KEY, body))
        assert answer.status_code == 400
        assert reason in caplog.text
    assert stored(web) == []


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Bounded poll on a condition (the sandbox delivers from its own thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def sandbox_request(server, method: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(f"{server.base_url}{path}", data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_sandbox_delivery_to_sensor_to_targeted_sync(sandbox_factory, sqlite_url, tmp_path, monkeypatch):
    # A wall clock: the edit must be newer than the connection, as it would be in real life.
    server = sandbox_factory(tenants=1, clock=Clock(), **SMALL_SANDBOX)
    for web in make_web(server, sqlite_url, tmp_path, monkeypatch):
        client = web.client("acme", "Acme MSP")
        web.connect(client)
        defs = dg.Definitions.merge(
            build_defs(database_url=sqlite_url, sandbox_url=server.base_url),
            dg.Definitions(sensors=[xero_webhook_sensor]),
        )
        with dg.instance_for_test() as instance, LiveServer(web.app) as live:
            assert drive_headless(instance, defs, web.engine, "acme") == []
            assert web.connection("acme").status == "connected"
            tenant_id = web.connection("acme").tenant_id

            # An unpaid invoice, edited by the partner in Xero; the sandbox signs and delivers the event.
            control(server, "POST", "/webhooks", {"url": f"{live.url}/webhooks/xero", "key": DEMO_WEBHOOK_KEY})
            invoices = sandbox_request(server, "GET", f"/_sandbox/tenants/{tenant_id}/invoices", {})["invoices"]
            target = next(i for i in invoices if i["type"] == "ACCREC" and i["status"] == "AUTHORISED"
                          and i["amount_paid"] in ("0", "0.00") and i["amount_credited"] in ("0", "0.00"))
            new_due = dt.date.fromisoformat(target["due_date"]) + dt.timedelta(days=30)
            sandbox_request(server, "PATCH", f"/_sandbox/tenants/{tenant_id}/invoices/{target['id']}",
                            {"due_date": new_due.isoformat(), "amount": "1234.56"})
            wait_for(lambda: any(d["delivered"] for d in control(server, "GET", "/webhooks")["deliveries"]),
                     what="the sandbox's webhook delivery")
            assert (tenant_id, "INVOICE", "UPDATE", target["id"]) in [r[:4] for r in stored(web)]

            with dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=defs,
                                         resources=defs.resources) as context:
                result = xero_webhook_sensor.evaluate_tick(context)
            assert len(result.run_requests) == 1
            request = result.run_requests[0]
            max_event = max(e for (e,) in web.engine.connect().execute(sa.select(schema.webhook_events.c.event_id)))
            assert request.partition_key == "acme"
            assert request.run_key == f"webhook:acme:{max_event}"
            assert {k: v for k, v in request.tags.items() if k.startswith("xero/")} == {
                "xero/tenant": tenant_id, "xero/partner": "acme", "xero/phase": "webhook"}
            assert result.cursor == str(max_event)

            outcome = defs.resolve_job_def("incremental_sync_job").execute_in_process(
                partition_key=request.partition_key, instance=instance, tags=request.tags)
            assert outcome.success
            t = schema.invoices
            with web.engine.begin() as conn:
                row = conn.execute(sa.select(t.c.total_minor, t.c.outstanding_minor, t.c.due_date).where(
                    t.c.partner_id == "acme", t.c.xero_invoice_id == target["id"])).one()
            assert (row.total_minor, row.outstanding_minor, row.due_date) == (123456, 123456, new_due)

            # Next tick: nothing new after the cursor, nothing requested.
            with dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=defs,
                                         resources=defs.resources, cursor=result.cursor) as context:
                again = xero_webhook_sensor.evaluate_tick(context)
            assert again.run_requests == [] and again.cursor == result.cursor
