"""`xero-sync keys generate | rotate`: encryption keys for stored Xero tokens.

Rolling out a new key: `xero-sync keys generate`, put it first in `XERO_SYNC_ENCRYPTION_KEY`
(`NEW,OLD`), deploy, run `xero-sync keys rotate` (re-encrypts every stored token set with NEW),
then drop OLD. Partners never reconnect.
"""

from __future__ import annotations

import argparse

from xero_sync.config import Settings
from xero_sync.store.token_cipher import TokenCipher


def _generate(args: argparse.Namespace) -> int:
    print(TokenCipher.generate_key())
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from xero_sync.store.db import open_store
    from xero_sync.store.token_store import reencrypt_all

    settings = Settings.from_env()
    url = args.database_url or settings.database_url
    cipher = TokenCipher.for_settings(settings)
    engine = open_store(url)
    try:
        count = reencrypt_all(engine, cipher)
    finally:
        engine.dispose()
    print(f"re-encrypted {count} token set(s) with the newest of {cipher.key_count} key(s); "
          "older keys can now be removed from XERO_SYNC_ENCRYPTION_KEY")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    keys = subparsers.add_parser("keys", help="encryption keys for stored Xero tokens")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    actions.add_parser("generate", help="print a new Fernet key").set_defaults(func=_generate)
    rotate = actions.add_parser("rotate", help="re-encrypt stored tokens with the newest key "
                                "(XERO_SYNC_ENCRYPTION_KEY=NEW,OLD)")
    rotate.add_argument("--database-url", help="platform store URL (default: XERO_SYNC_DATABASE_URL)")
    rotate.set_defaults(func=_rotate)
