"""The one Xero app the sandbox has registered: its client id, secret, webhook key and scopes.

These are public, sandbox-only values. xero-sync's embedded defaults (`xero_sync.config`) name the
same app; tests/sandbox/test_demo_app.py checks the two agree. The sandbox imports nothing of
xero-sync: it stands in for Xero, which knows nothing of its clients either.
"""

DEMO_CLIENT_ID = "xero-sync-demo"
DEMO_CLIENT_SECRET = "demo-secret-sandbox-only"
DEMO_WEBHOOK_KEY = "demo-webhook-key-sandbox-only"
SCOPES = (
    "offline_access openid profile email accounting.contacts accounting.settings "
    "accounting.transactions accounting.reports.read"
)
