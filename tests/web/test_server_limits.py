"""Issue 19, a server that refuses early: waitress's limits from settings, and the security headers
on every answer, waitress's own 400/413 included (real mode, over raw sockets to waitress)."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import pytest

from tests.web.real_mode import RealWeb, serve_real
from xero_sync.web.settings import DEFAULT_MAX_BODY

BIG = 200 * 1024 * 1024  # the body an attacker announces
SECURITY = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy",
            "strict-transport-security", "cache-control")


@pytest.fixture
def real_web(sqlite_url, tmp_path, monkeypatch) -> Iterator[RealWeb]:
    """Real mode under waitress (the server's limits do not depend on the store: SQLite only)."""
    yield from serve_real(sqlite_url, tmp_path, monkeypatch)


def _connect(url: str, timeout: float = 10) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    return sock


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
    return int(head[0].split()[1]), headers


def _send_until_answered(sock: socket.socket, total: int, piece: bytes) -> int:
    """Send up to `total` body bytes; stop as soon as the server answers or closes. Bytes sent."""
    sent = 0
    while sent < total:
        readable, writable, _ = select.select([sock], [sock], [], 10)
        if readable or not writable:
            break  # the server answered (or closed) before we finished; or it stopped reading
        try:
            sent += sock.send(piece)
        except (BrokenPipeError, ConnectionResetError):
            break
    return sent


@pytest.mark.parametrize("path", ["/api/partners/acme/events/payment-taken", "/webhooks/xero",
                                  "/signin/assertion"])
def test_a_200_mib_body_is_refused_before_it_is_read(real_web: RealWeb, path):
    """Seen: a 200 MiB unauthenticated body was read in full before the 401/413 (waitress: 1 GiB)."""
    sock = _connect(real_web.url)
    try:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {BIG}\r\n\r\n".encode())
        sent = _send_until_answered(sock, BIG, b"x" * 65536)
        status, headers = _read_answer(sock)
    finally:
        sock.close()
    assert status == 413
    assert sent < 16 * 1024 * 1024, f"{sent} bytes were accepted before the answer"
    assert all(name in headers for name in SECURITY), headers


def test_a_chunked_body_over_the_limit_is_cut_off(real_web: RealWeb):
    sock = _connect(real_web.url)
    try:
        sock.sendall(b"POST /webhooks/xero HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
        sent = _send_until_answered(sock, BIG, piece)
        status, headers = _read_answer(sock)
    finally:
        sock.close()
    assert status == 413 and sent < DEFAULT_MAX_BODY + 16 * 1024 * 1024
    assert all(name in headers for name in SECURITY), headers


def test_waitress_own_bad_request_carries_the_security_headers(real_web: RealWeb):
    """Seen: waitress's own 400/413 answers carried none of the security headers."""
    sock = _connect(real_web.url)
    try:
        sock.sendall(b"GET /integrations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: nonsense\r\n\r\n")
        status, headers = _read_answer(sock)
    finally:
        sock.close()
    assert status == 400
    assert all(name in headers for name in SECURITY), headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_idle_half_sent_requests_do_not_block_a_normal_request(real_web: RealWeb):
    """Seen: 120 idle half-sent requests made a normal request time out (waitress: 100 connections)."""
    idle = []
    try:
        for _ in range(120):
            sock = _connect(real_web.url)
            sock.sendall(b"GET /integrations HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # never finished
            idle.append(sock)
        started = time.monotonic()
        answer = real_web.browser().get("/signedout")
        assert answer.status == 200 and time.monotonic() - started < 5
    finally:
        for sock in idle:
            sock.close()


@pytest.fixture
def quick_timeout_web(sqlite_url, tmp_path, monkeypatch) -> Iterator[RealWeb]:
    yield from serve_real(sqlite_url, tmp_path, monkeypatch, XERO_SYNC_WEB_CHANNEL_TIMEOUT="1",
                          XERO_SYNC_WEB_CONNECTION_LIMIT="10")


def test_idle_connections_are_dropped_and_free_their_place(quick_timeout_web: RealWeb):
    """With a connection limit of 10 and a 1 s idle timeout (settings), 30 idle half-sent requests
    are closed by the server and a normal request is answered within a few seconds."""
    idle = [_connect(quick_timeout_web.url) for _ in range(30)]
    try:
        for sock in idle:
            sock.sendall(b"GET /integrations HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        answer = quick_timeout_web.browser().get("/signedout")
        assert answer.status == 200 and time.monotonic() - started < 15
        first = idle[0]
        first.settimeout(10)
        assert first.recv(1024) == b""  # closed by the server, not by us
    finally:
        for sock in idle:
            sock.close()
