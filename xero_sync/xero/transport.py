"""The HTTP layer under the client: xero-python's ApiClient with its own retries switched off.

Every call comes back as an `HttpAnswer` (any status) or raises a urllib3 transport error, so the
one retry policy in `retry.py` decides everything. Reads go through the SDK's generated methods
with `_preload_content=False` (raw JSON, parsed by us with Decimal); bodies we build ourselves
(writes, the token endpoint) go through the same connection pool, so Decimals reach the wire
exactly as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import urllib3
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException

from xero_sync.xero.retry import HttpAnswer

Timeout = tuple[int, int] | int


def make_api_client(token_getter: Callable[[], dict] | None = None) -> ApiClient:
    """An ApiClient whose urllib3 pool never retries on its own.

    Without this the SDK silently honours Retry-After on 429/503 for GET/PUT/DELETE (up to hours)
    and once replayed a PUT /Payments; our retry policy must be the only one.
    """
    # xero-python's Configuration is a process-wide singleton handed out as shallow copies
    # (metaclass TypeWithDefault): constructor arguments after the first call are ignored and
    # the oauth2_token object would be shared by every client. Give each client its own.
    config = Configuration()
    config.oauth2_token = OAuth2Token()
    client = ApiClient(
        config,
        oauth2_token_getter=token_getter or (lambda: {}),
        oauth2_token_saver=lambda token: None,  # tokens are saved by the TokenStore, not the SDK
    )
    client.rest_client.pool_manager.connection_pool_kw["retries"] = False
    return client


def sdk_token_dict(access_token: str, scope: str, token_type: str = "Bearer") -> dict:
    """What the SDK's getter must return. expires_at=None: the SDK never refreshes by itself."""
    return {
        "access_token": access_token,
        "scope": scope.split() if scope else [],
        "expires_in": None,
        "token_type": token_type,
        "expires_at": None,
    }


def check_timeout(timeout: Any) -> Timeout:
    # The SDK silently ignores a float timeout; only int or a 2-tuple work.
    if isinstance(timeout, bool) or not (
        isinstance(timeout, int)
        or (isinstance(timeout, tuple) and len(timeout) == 2 and all(isinstance(t, int) for t in timeout))
    ):
        raise ValueError(f"timeout must be an int or a 2-tuple of ints, got {timeout!r}")
    return timeout


def call_sdk(method: Callable[..., Any], *args: Any, timeout: Timeout, **kwargs: Any) -> HttpAnswer:
    """Call a generated SDK method, returning the raw answer whatever its status."""
    try:
        raw = method(*args, _preload_content=False, _request_timeout=timeout, **kwargs)
    except ApiException as exc:
        if exc.http_resp is None:  # raised before any HTTP happened (SSL, bad arguments)
            raise
        return HttpAnswer.build(exc.status or 0, exc.headers, exc.body)
    return HttpAnswer.build(raw.status, raw.headers, raw.data)


def send_raw(
    api_client: ApiClient,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: Timeout,
) -> HttpAnswer:
    """Send a body we serialised ourselves through the SDK's connection pool."""
    if isinstance(timeout, tuple):
        u3_timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
    else:
        u3_timeout = urllib3.Timeout(total=timeout)
    all_headers = dict(api_client.default_headers)
    all_headers.update(headers)
    r = api_client.rest_client.pool_manager.request(
        method, url, body=body, headers=all_headers, timeout=u3_timeout, retries=False
    )
    return HttpAnswer.build(r.status, r.headers, r.data)
