"""Linking a partner to a Xero organisation: code exchange, the Confirm step, and the sandbox's
headless consent used by the demo and `xero-sync connect --sandbox`."""
