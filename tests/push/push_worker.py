"""One push of one partner in its own process, so a test can SIGKILL it mid-push.

    python -m tests.push.push_worker PARTNER_ID TENANT_ID TOKEN_SET_ID

Reads the store and the sandbox from the environment, as the push job does:
XERO_SYNC_DATABASE_URL, XERO_SYNC_SANDBOX_URL and XERO_SYNC_ENCRYPTION_KEY (the key the token set
was stored with). Wall clock, the real client, the real `push_partner`; prints the report.
"""

from __future__ import annotations

import os
import sys

from xero_sync.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, XeroEndpoints
from xero_sync.store.db import make_engine
from xero_sync.store.token_cipher import ENV_VAR, TokenCipher
from xero_sync.store.token_store import SqlTokenStore
from xero_sync.push.engine import push_partner
from xero_sync.xero.client import XeroClient
from xero_sync.xero.oauth import OAuthApp


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    partner_id, tenant_id, token_set_id = argv[0], argv[1], int(argv[2])
    engine = make_engine(os.environ["XERO_SYNC_DATABASE_URL"])
    endpoints = XeroEndpoints.for_base(os.environ["XERO_SYNC_SANDBOX_URL"])
    client = XeroClient(
        endpoints=endpoints, tenant_id=tenant_id,
        token_store=SqlTokenStore(engine, TokenCipher(os.environ[ENV_VAR])),
        token_set_id=token_set_id,
        oauth_app=OAuthApp(endpoints, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    )
    print("worker: pushing", flush=True)
    report = push_partner(engine, client, partner_id, limit=500)
    print(f"worker: {report.as_metadata()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
