"""`GET /Organisation` and the chart of accounts (`GET /Accounts`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request

from xero_sandbox import xero_json as xj
from xero_sandbox.accounting.blueprint import accounting
from xero_sandbox.accounting.reads import list_records
from xero_sandbox.accounting.responses import envelope
from xero_sandbox.context import current_org


_ACCOUNT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "AccountID": lambda a: a.account_id, "Code": lambda a: a.code, "Name": lambda a: a.name,
    "Type": lambda a: a.type, "Status": lambda a: a.status, "Class": lambda a: a.cls,
    "EnablePaymentsToAccount": lambda a: a.enable_payments,
    "BankAccountType": lambda a: a.bank_account_type, "UpdatedDateUTC": lambda a: a.updated,
}


@accounting.get("/Organisation")
def get_organisation() -> Response:
    return envelope("Organisations", [xj.organisation_json(current_org())])


@accounting.get("/Accounts")
def list_accounts() -> Response:
    org = current_org()
    with org.lock:
        rows, _ = list_records(org.accounts.values(), _ACCOUNT_FIELDS, lambda a: a.account_id,
                               paged=False)
        if not request.args.get("order"):
            rows.sort(key=lambda a: a.code)
        return envelope("Accounts", [xj.account_json(a) for a in rows])


@accounting.get("/Accounts/<account_id>")
def get_account(account_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("Accounts", [xj.account_json(org.get_account(account_id))])
