"""The push path: outbox rows -> Xero writes, exactly once (see engine.py)."""
