"""Clicking through the sandbox's consent page over HTTP (no browser): the demo and
`xero-sync connect --sandbox` use it. Real Xero's consent needs a person in a browser."""

from __future__ import annotations

import html.parser
import urllib.parse

import urllib3

from xero_sync.config import SCOPES, Settings
from xero_sync.connect.flow import ConnectError
from xero_sync.xero.oauth import OAuthApp


class _ConsentForm(html.parser.HTMLParser):
    """Reads the hidden fields and the organisations offered on the sandbox's consent page."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.tenants: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and a.get("type") == "hidden" and name:
            self.hidden[name] = a.get("value") or ""
        if tag == "input" and a.get("type") == "radio" and a.get("name") == "tenant_id":
            self.tenants.append(a.get("value") or "")


def consent_headless(settings: Settings, tenant_id: str | None = None) -> tuple[str, str]:
    """Click through the sandbox consent page over HTTP; returns (code, redirect_uri).

    Only for the bundled sandbox: real Xero's consent needs a person in a browser.
    """
    if not settings.uses_sandbox:
        raise ConnectError("headless connect only works against the sandbox; use the Integrations page for real Xero")
    redirect_uri = "http://127.0.0.1/xero/callback"
    app = OAuthApp(settings.xero, settings.client_id, settings.client_secret)
    http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=30))
    try:
        page = http.request("GET", app.authorize_url("headless", redirect_uri, SCOPES))
    except urllib3.exceptions.HTTPError as exc:
        raise ConnectError(
            f"cannot reach the Xero sandbox at {settings.xero.authorize_url} ({exc.__class__.__name__}); "
            "start it with `xero-sync sandbox` or set XERO_SYNC_SANDBOX_URL"
        ) from None
    if page.status != 200:
        raise ConnectError(f"sandbox consent page answered HTTP {page.status}")
    form = _ConsentForm()
    form.feed(page.data.decode())
    if not form.tenants:
        raise ConnectError("the sandbox offers no organisation to connect")
    chosen = tenant_id or form.tenants[0]
    if chosen not in form.tenants:
        raise ConnectError(f"tenant {chosen} is not one of the sandbox's organisations {form.tenants}")
    answer = http.request(
        "POST", settings.xero.authorize_url, redirect=False,
        fields={**form.hidden, "tenant_id": chosen, "action": "allow"}, encode_multipart=False,
    )
    location = answer.headers.get("Location", "")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    if answer.status != 302 or "code" not in query:
        raise ConnectError(f"sandbox consent did not return a code (HTTP {answer.status})")
    return query["code"][0], redirect_uri


