"""Where a request finds its sandbox and organisation.

The server (app.py) stores the `Sandbox` in `app.extensions["xero_sandbox"]` and, after checking
the bearer token and `xero-tenant-id`, puts the organisation for the request on `flask.g.org`.
Blueprints read both through these two functions so they never reach into app internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app, g

if TYPE_CHECKING:
    from xero_sandbox.org import Organisation


def sandbox() -> Any:
    """The running sandbox: has `.orgs` (tenant_id -> Organisation) and `.clock`."""
    return current_app.extensions["xero_sandbox"]


def current_org() -> Organisation:
    """The organisation the current /api.xro/2.0 request is for."""
    return g.org
