"""Pages that say what happened and what to do, for every failure (never a traceback)."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def message_page(title: str, text: str, *, status: int = 200, action: str | None = None,
                 action_label: str = "Back to Integrations"):
    """A full page with a heading, one or two sentences, and a way back."""
    return render_template("message.html", title=title, text=text, action=action,
                           action_label=action_label), status


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/webhooks/"):
            return exc  # Xero reads only the status code
        if request.path.startswith("/api/"):  # the events API answers JSON
            return {"error": exc.description or exc.name}, exc.code or 500
        return message_page(exc.name, exc.description or exc.name, status=exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/webhooks/"):
            return "", 500
        if request.path.startswith("/api/"):
            return {"error": "unexpected error; nothing was recorded"}, 500
        return message_page(
            "Something went wrong",
            "The Integrations page hit an unexpected error. "
            "Try again in a minute; if it keeps happening, contact support.",
            status=500,
        )
