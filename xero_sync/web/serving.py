"""Serving the Integrations page: waitress (a production WSGI server) and the HTTP headers it sends.

Werkzeug's server is for development only; waitress is pure Python, threaded, and runs the same on
every machine we deploy to. Security headers are set on every answer, waitress's own errors
included: a CSP that allows no script, no framing and forms only to ourselves and Xero's authorize
page; `nosniff`; no Referer (the OAuth callback URL carries a code); no caching; HSTS when the
public URL is https.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response
from waitress import create_server, wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask

from xero_sync.web.settings import ServerLimits

WEB_THREADS = 8  # concurrent requests; webhooks answer fast, pages are small
_HEADERS = "xero_sync_security_headers"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(*, public_url: str, authorize_url: str) -> list[tuple[str, str]]:
    """The headers every answer carries, the app's and waitress's own errors alike."""
    csp = "; ".join((
        "default-src 'none'",
        "style-src 'unsafe-inline'",  # the one inline <style> in base.html; still no script at all
        "img-src 'self' data:",
        # Connect POSTs here and is redirected to Xero's consent page: the browser checks both.
        f"form-action 'self' {origin(authorize_url)}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ))
    headers = [
        ("Content-Security-Policy", csp),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        # Pages show a partner's data: after sign-out, Back must ask the server again.
        ("Cache-Control", "no-store"),
    ]
    if public_url.startswith("https://"):
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


def install_security_headers(app: Flask, *, public_url: str, authorize_url: str) -> None:
    """Every response gets the same security headers (set once here, so no view can forget them)."""
    headers = security_headers(public_url=public_url, authorize_url=authorize_url)
    app.extensions[_HEADERS] = headers

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in headers:
            response.headers.setdefault(name, value)
        return response


def _channel_with_headers(headers: list[tuple[str, str]]) -> type[HTTPChannel]:
    """waitress answers a bad request (400), a too-large body (413), ... itself, without the app:
    its error task gets the app's security headers too."""

    class SecureErrorTask(ErrorTask):
        def execute(self) -> None:
            self.response_headers.extend(headers)  # before the error's own; sent on the first write
            super().execute()

    class SecureChannel(HTTPChannel):
        error_task_class = SecureErrorTask

    return SecureChannel


def make_server(app: Flask, host: str, port: int, *, limits: ServerLimits | None = None,
                **options) -> BaseWSGIServer:
    """A waitress server bound to host:port (0 = an ephemeral port: `.effective_port`); `.run()` serves.

    Its limits (`ServerLimits`: body size, connections, idle timeout) refuse early: a body over the
    limit is answered 413 from its Content-Length, before it is read."""
    limits = limits or ServerLimits()
    server = create_server(app, host=host, port=port, threads=WEB_THREADS, ident="xero-sync",
                           **{**limits.waitress_options(), **options})
    if not isinstance(server, BaseWSGIServer):  # several listening sockets: not how we serve
        raise ValueError(f"serve one address, not {host!r}")
    server.channel_class = _channel_with_headers(app.extensions.get(_HEADERS, []))
    return server


def stop(server: BaseWSGIServer) -> None:
    """Stop a server whose `.run()` is in another thread: its own loop closes every socket.

    waitress 3.0.2 has no thread-safe stop (`server.close()` closes fds under the loop's select), so
    we queue a thunk for the loop. Not with `pull_trigger(thunk)`: it appends the thunk, releases the
    trigger's lock and only then writes the wake-up byte; a loop already awake (a worker's pull after
    an answer) may run the thunk in between, and the thunk closes the trigger's pipe: the write then
    failed with EBADF (or would write to whatever reused the fd number). The loop runs thunks only
    under `trigger.lock`: holding it across the append and the write, no thunk can run before the
    write. (`pull_trigger()` without a thunk does not take the lock.)"""
    trigger = server.trigger
    with trigger.lock:
        trigger.thunks.append(lambda: wasyncore.close_all(server._map))
        trigger.pull_trigger()
    server.task_dispatcher.shutdown()
