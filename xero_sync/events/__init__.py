"""The events API Alternative calls (SPEC section 8): edge checks (`checks`), recording in the store
(`api`) and idempotency keys (`idempotency`). Plain functions; `web/events_api.py` serves them."""
