"""The platform store: schema and migrations, landing, partners and connections, the outbox,
tokens, webhooks, rate windows and health evidence. Plain SQLAlchemy; no Dagster, no Xero client."""
