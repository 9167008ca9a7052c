"""Signed webhook delivery from the sandbox to a tiny local receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.sandbox.sdk_helpers import payment_body, unpaid_invoices
from tests.sandbox_fixtures import control

KEY = "receiver-test-key"
WEBHOOKS_SPEC = Path(__file__).resolve().parents[2] / "vendor" / "xero-openapi" / "xero-webhooks.yaml"


class Receiver:
    """Answers like a correct Xero webhook endpoint: 200 on a valid signature, 401 otherwise."""

    def __init__(self, key: str, fail_first: int = 0) -> None:
        self.key = key
        self.fail_first = fail_first
        self.received: queue.Queue[tuple[dict, bool]] = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                expected = base64.b64encode(hmac.new(receiver.key.encode(), raw, hashlib.sha256).digest())
                valid = hmac.compare_digest(expected.decode(), self.headers.get("x-xero-signature", ""))
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(500)
                else:
                    receiver.received.put((json.loads(raw), valid))
                    self.send_response(200 if valid else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/xero/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(KEY)
    yield r
    r.close()


def _payload_schema() -> dict:
    spec = yaml.safe_load(WEBHOOKS_SPEC.read_text())
    return spec["components"]["schemas"]["WebhookEvent"]


def test_change_is_delivered_signed_and_matches_the_spec(sandbox_sdk, receiver):
    sdk = sandbox_sdk
    control(sdk.server, "POST", "/webhooks", {"url": receiver.url, "key": KEY})
    invoice = unpaid_invoices(sdk)[0]
    sdk.accounting.create_payments(sdk.tenant_id, payment_body(invoice, Decimal("1.00"), "hook"))
    payload, valid = receiver.received.get(timeout=10)
    assert valid
    jsonschema.validate(payload, _payload_schema())
    event = payload["events"][0]
    assert event["eventCategory"] == "INVOICE" and event["eventType"] == "UPDATE"
    assert event["resourceId"] == invoice.invoice_id and event["tenantId"] == sdk.tenant_id
    assert event["resourceUrl"].endswith(f"/api.xro/2.0/Invoices/{invoice.invoice_id}")
    assert payload["firstEventSequence"] <= payload["lastEventSequence"]
    assert control(sdk.server, "POST", "/webhooks/flush", {"timeout": 5}) == {"flushed": True}
    deliveries = control(sdk.server, "GET", "/webhooks")["deliveries"]
    assert deliveries[0]["status"] == 200 and deliveries[0]["delivered"]


def test_failed_delivery_is_retried(sandbox_sdk):
    receiver = Receiver(KEY, fail_first=1)
    try:
        sdk = sandbox_sdk
        control(sdk.server, "POST", "/webhooks", {"url": receiver.url, "key": KEY})
        invoice = unpaid_invoices(sdk)[0]
        sdk.accounting.create_payments(sdk.tenant_id, payment_body(invoice, Decimal("1.00"), "retry"))
        payload, valid = receiver.received.get(timeout=10)
        assert valid and payload["events"]
        control(sdk.server, "POST", "/webhooks/flush", {"timeout": 5})
        delivery = control(sdk.server, "GET", "/webhooks")["deliveries"][0]
        assert delivery["attempts"] == 2 and delivery["delivered"]
    finally:
        receiver.close()


def test_intent_to_receive(sandbox, receiver):
    control(sandbox, "POST", "/webhooks", {"url": receiver.url, "key": KEY})
    result = control(sandbox, "POST", "/webhooks/intent")
    assert result == {"ok": True, "valid_signature_status": 200, "invalid_signature_status": 401}
    first, first_valid = receiver.received.get(timeout=5)
    second, second_valid = receiver.received.get(timeout=5)
    assert first["events"] == [] and first_valid and not second_valid


def test_intent_to_receive_fails_for_a_receiver_that_accepts_anything(sandbox, receiver):
    receiver.key = "the receiver checks nothing useful"  # every signature looks wrong to it
    control(sandbox, "POST", "/webhooks", {"url": receiver.url, "key": KEY})
    result = control(sandbox, "POST", "/webhooks/intent")
    assert result["ok"] is False and result["valid_signature_status"] == 401
