"""The state machines the store keeps: an outbox row's status and a connection's status.

One StrEnum each: schema.py's CHECK constraints are built from them (migration 0011 created the
same constraints; tests/store/test_states.py compares the enums with the migrated databases'),
and every query or write of a status names a member. A StrEnum member is its string, so it binds
as a plain value and compares equal to what the database returns.
"""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    """pending -> sending -> done | rejected; `unknown` after a lost response (look up by reference
    before re-posting); `waiting_accounts` until Set Up Accounts is done; `cancelled`: the payment
    failed before its write was sent, so nothing is written at all; `held`: sent MAX_ATTEMPTS times
    without settling, kept for a person (outbox.mark_held)."""

    PENDING = "pending"
    WAITING_ACCOUNTS = "waiting_accounts"
    SENDING = "sending"
    UNKNOWN = "unknown"
    DONE = "done"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    HELD = "held"


class ConnectionStatus(StrEnum):
    """not_connected -> pending -> connected; needs_reauth | disconnected from any connected state."""

    NOT_CONNECTED = "not_connected"
    PENDING = "pending"
    CONNECTED = "connected"
    NEEDS_REAUTH = "needs_reauth"
    DISCONNECTED = "disconnected"

