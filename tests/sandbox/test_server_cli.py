"""`xero-sync sandbox`: argument errors, and a real foreground run stopped by SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from xero_sync.commands.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sandbox", "--invoices", "many"], "invoices must be an integer"),
        (["sandbox", "--currency", "EUR"], "invalid choice: 'EUR'"),
        (["sandbox", "--time-scale", "0"], "time scale must be > 0"),
    ],
)
def test_bad_arguments_give_a_clear_error(argv, message, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_port_out_of_range_is_one_line(capsys):
    assert main(["sandbox", "--port", "70000", "--invoices", "5", "--months", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "xero-sync sandbox: --port 70000 is not a TCP port (1-65535)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serves_in_the_foreground_and_stops_on_sigterm():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "xero_sync.commands.cli", "sandbox", "--port", str(port), "--invoices", "20",
         "--months", "2", "--tenants", "2", "--currency", "CAD"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = [process.stdout.readline() for _ in range(9)]  # printed once the socket listens
        text = "".join(banner)
        assert f"http://127.0.0.1:{port}/api.xro/2.0" in text
        assert f"http://127.0.0.1:{port}/connect/token" in text
        assert "xero-sync-demo" in text
        tenants = [process.stdout.readline() for _ in range(3)]
        assert sum("Demo Company (CA)" in line for line in tenants) == 2
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/health", timeout=5) as answer:
            health = json.loads(answer.read())
        assert health == {"ok": True, "tenants": 2, "time": health["time"]}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_per_app_minute_limit_is_an_option():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "xero_sync.commands.cli", "sandbox", "--port", str(port), "--invoices", "5",
         "--months", "1", "--tenants", "2", "--app-minute-limit", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        banner = "".join(process.stdout.readline() for _ in range(3))  # printed once the socket listens
        assert "app 3/min" in banner
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/_sandbox/tenants", timeout=5) as answer:
            tenants = [t["tenant_id"] for t in json.loads(answer.read())]
        statuses = []
        for n in range(4):  # the app's 3 calls of the minute spread over both tenants, then a 429
            tenant = tenants[n % 2]
            token = urllib.request.Request(f"{base}/_sandbox/tokens", method="POST",
                                           data=json.dumps({"tenant_id": tenant}).encode(),
                                           headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(token, timeout=5) as answer:
                access = json.loads(answer.read())["access_token"]
            call = urllib.request.Request(f"{base}/api.xro/2.0/Organisation", headers={
                "Authorization": f"Bearer {access}", "xero-tenant-id": tenant, "Accept": "application/json"})
            try:
                with urllib.request.urlopen(call, timeout=5) as answer:
                    statuses.append((answer.status, None))
            except urllib.error.HTTPError as refused:
                statuses.append((refused.code, refused.headers.get("X-Rate-Limit-Problem")))
        assert statuses == [(200, None)] * 3 + [(429, "appminute")]
    finally:
        process.terminate()
        process.wait(timeout=10)
