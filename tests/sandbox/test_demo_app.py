"""The sandbox's registered demo app and xero-sync's embedded defaults name the same app."""

from xero_sandbox import demo_app
from xero_sync import config


def test_embedded_defaults_match_the_sandbox_demo_app() -> None:
    assert (config.DEMO_CLIENT_ID, config.DEMO_CLIENT_SECRET, config.DEMO_WEBHOOK_KEY) == (
        demo_app.DEMO_CLIENT_ID, demo_app.DEMO_CLIENT_SECRET, demo_app.DEMO_WEBHOOK_KEY)
    assert config.SCOPES == demo_app.SCOPES
