"""Ids from outside (partner ids, payment and payout ids) checked where they enter the store.

A partner id is also a Dagster partition key and part of run keys and tags; a payment or payout
id becomes a Xero Reference that is looked up in a `where` clause. Both are refused with a clear
error (what and where) when they could break either, never stored and found bad later.
"""

from __future__ import annotations

import re

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Letters, digits and . _ : - (no quotes, backslashes, spaces or separators Xero's where parses).
RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


class InvalidId(ValueError):
    """An id that cannot be stored as given; the message says which and why."""


def check_partner_id(partner_id: object, where: str = "partner id") -> str:
    if not isinstance(partner_id, str) or not PARTNER_ID.match(partner_id):
        raise InvalidId(f"{where} {partner_id!r} must be 1-63 lowercase letters, digits, '-' or '_', "
                        "starting with a letter or digit (it is a Dagster partition key)")
    return partner_id


def check_record_id(record_id: object, what: str) -> str:
    if not isinstance(record_id, str) or not RECORD_ID.match(record_id):
        raise InvalidId(f"{what} {record_id!r} must be 1-64 letters, digits, '.', '_', ':' or '-' "
                        "(it becomes a Xero Reference that is looked up later)")
    return record_id


def is_partner_id(value: object) -> bool:
    return isinstance(value, str) and bool(PARTNER_ID.match(value))
