"""Serving the Integrations page: waitress (a production WSGI server) and the HTTP headers it sends.

Werkzeug's server is for development only; waitress is pure Python, threaded, and runs the same on
every machine we deploy to. Security headers are set on every answer: a CSP that allows no script,
no framing and forms only to ourselves and Xero's authorize page; `nosniff`; no Referer (the OAuth
callback URL carries a code); HSTS when the public URL is https.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response
from waitress import create_server, wasyncore
from waitress.server import BaseWSGIServer, MultiSocketServer

WEB_THREADS = 8  # concurrent requests; webhooks answer fast, pages are small


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def install_security_headers(app: Flask, *, public_url: str, authorize_url: str) -> None:
    """Every response gets the same security headers (set once here, so no view can forget them)."""
    csp = "; ".join((
        "default-src 'none'",
        "style-src 'unsafe-inline'",  # the one inline <style> in base.html; still no script at all
        "img-src 'self' data:",
        # Connect POSTs here and is redirected to Xero's consent page: the browser checks both.
        f"form-action 'self' {origin(authorize_url)}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ))
    https = public_url.startswith("https://")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def make_server(app: Flask, host: str, port: int, **options) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server bound to host:port (0 = an ephemeral port: `.effective_port`); `.run()` serves."""
    return create_server(app, host=host, port=port, threads=WEB_THREADS, ident="xero-sync", **options)


def stop(server: BaseWSGIServer | MultiSocketServer) -> None:
    """Stop a server whose `.run()` is in another thread: its own loop closes every socket."""
    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    server.task_dispatcher.shutdown()
