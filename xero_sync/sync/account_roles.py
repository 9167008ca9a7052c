"""Set Up Accounts (SPEC 3.3): which Xero accounts may play which role, and refusals that name the rule.

Pure: takes `AccountRecord`s from Xero's chart of accounts and a choice of account ids, returns
what qualifies or why a choice is refused. The Integrations page and `xero-sync accounts` share it.

Roles:
- payments account ("Undeposited Funds"): type BANK, or any account with payments enabled
  (`EnablePaymentsToAccount`), where Alternative's payments are recorded;
- deposit account: a BANK account where payouts land; never the payments account itself;
- fees account (optional): EXPENSE / OVERHEADS / DIRECTCOSTS, for fees the partner absorbs;
- income account (optional): REVENUE / SALES / OTHERINCOME, used by stand-alone deposits.
Every chosen account must be ACTIVE (Xero refuses postings to archived accounts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from xero_sync.core.records import AccountRecord

ROLES = ("payments", "deposit", "fees", "income")
REQUIRED_ROLES = frozenset({"payments", "deposit"})
FEE_TYPES = frozenset({"EXPENSE", "OVERHEADS", "DIRECTCOSTS"})
INCOME_TYPES = frozenset({"REVENUE", "SALES", "OTHERINCOME"})

ROLE_LABELS = {
    "payments": "Payments account",
    "deposit": "Deposit account",
    "fees": "Fees account",
    "income": "Income account",
}
# The rule for each role, in the words the refusal uses.
ROLE_RULES = {
    "payments": "the payments account must be a BANK account or an account with payments enabled "
                "(EnablePaymentsToAccount), such as Undeposited Funds",
    "deposit": "the deposit account must be a BANK account (where payouts land)",
    "fees": "the fees account must be an expense account (EXPENSE, OVERHEADS or DIRECTCOSTS)",
    "income": "the income account must be a revenue account (REVENUE, SALES or OTHERINCOME)",
}
ACTIVE_RULE = "chosen accounts must be ACTIVE in Xero"
DISTINCT_RULE = "the deposit account must be a different account from the payments account"


class AccountChoiceError(ValueError):
    """A refused Set Up Accounts choice; `messages` holds one line per broken rule."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class AccountChoice:
    """A valid choice, ready for `connections.set_accounts`."""

    payments_account_id: str
    payments_account_is_bank: bool
    deposit_account_id: str
    fees_account_id: str | None = None
    income_account_id: str | None = None


def _fits_type(role: str, account: AccountRecord) -> bool:
    kind = (account.type or "").upper()
    if role == "payments":
        return kind == "BANK" or account.enable_payments_to_account
    if role == "deposit":
        return kind == "BANK"
    if role == "fees":
        return kind in FEE_TYPES
    if role == "income":
        return kind in INCOME_TYPES
    raise ValueError(f"unknown account role {role!r}; expected one of {ROLES}")


def qualifies(role: str, account: AccountRecord) -> bool:
    """True if `account` may be chosen for `role` (type rule and ACTIVE)."""
    return _fits_type(role, account) and (account.status or "").upper() == "ACTIVE"


def candidates(accounts: Iterable[AccountRecord]) -> dict[str, list[AccountRecord]]:
    """Accounts that qualify for each role, ordered by code then name (what a select lists)."""
    ordered = sorted(accounts, key=lambda a: (a.code or "~", a.name.lower()))
    return {role: [a for a in ordered if qualifies(role, a)] for role in ROLES}


def describe(account: AccountRecord) -> str:
    return f"{account.code} {account.name}" if account.code else account.name


def validate_choice(accounts: Iterable[AccountRecord], chosen: Mapping[str, str | None]) -> AccountChoice:
    """Check a choice {role: account id or None} against the chart; AccountChoiceError if refused.

    Every broken rule is reported (not just the first), each message naming the role, the
    account and the rule.
    """
    by_id = {a.account_id.lower(): a for a in accounts}
    unknown_roles = sorted(set(chosen) - set(ROLES))
    if unknown_roles:
        raise ValueError(f"unknown account role(s) {unknown_roles}; expected {ROLES}")
    messages: list[str] = []
    picked: dict[str, AccountRecord] = {}
    for role in ROLES:
        account_id = (chosen.get(role) or "").strip()
        label = ROLE_LABELS[role]
        if not account_id:
            if role in REQUIRED_ROLES:
                messages.append(f"{label} is required: {ROLE_RULES[role]}")
            continue
        account = by_id.get(account_id.lower())
        if account is None:
            messages.append(f"{label}: account {account_id} is not in this organisation's chart of accounts")
            continue
        if not _fits_type(role, account):
            messages.append(f"{label}: {describe(account)} has type {account.type}; {ROLE_RULES[role]}")
        elif (account.status or "").upper() != "ACTIVE":
            messages.append(f"{label}: {describe(account)} is {account.status}; {ACTIVE_RULE}")
        else:
            picked[role] = account
    payments, deposit = picked.get("payments"), picked.get("deposit")
    if payments is not None and deposit is not None and payments.account_id == deposit.account_id:
        messages.append(f"Deposit account: {describe(deposit)} is also the payments account; {DISTINCT_RULE}")
    if messages:
        raise AccountChoiceError(messages)
    assert payments is not None and deposit is not None
    return AccountChoice(
        payments_account_id=payments.account_id,
        payments_account_is_bank=(payments.type or "").upper() == "BANK",
        deposit_account_id=deposit.account_id,
        fees_account_id=picked["fees"].account_id if "fees" in picked else None,
        income_account_id=picked["income"].account_id if "income" in picked else None,
    )
