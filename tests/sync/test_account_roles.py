"""Set Up Accounts rules: which accounts qualify per role and how refusals name the rule."""

from __future__ import annotations

import pytest

from xero_sync.sync.account_roles import (
    AccountChoiceError,
    candidates,
    qualifies,
    validate_choice,
)
from xero_sync.core.records import AccountRecord


def account(account_id: str, type_: str, *, code: str | None = None, status: str = "ACTIVE",
            payments: bool = False) -> AccountRecord:
    return AccountRecord(account_id=account_id, code=code, name=f"{type_} {account_id}", type=type_,
                         status=status, enable_payments_to_account=payments)


CHART = [
    account("bank-1", "BANK", code="090"),
    account("bank-2", "BANK", code="091"),
    account("bank-old", "BANK", code="092", status="ARCHIVED"),
    account("undeposited", "CURRENT", code="615", payments=True),
    account("receivable", "CURRENT", code="610"),
    account("sales", "REVENUE", code="200"),
    account("other-income", "OTHERINCOME", code="270"),
    account("fees", "EXPENSE", code="404"),
    account("overheads", "OVERHEADS", code="480"),
    account("cogs", "DIRECTCOSTS", code="310"),
    account("equity", "EQUITY", code="970"),
]


@pytest.mark.parametrize(
    ("role", "acc", "expected"),
    [
        ("payments", account("a", "BANK"), True),
        ("payments", account("a", "CURRENT", payments=True), True),
        ("payments", account("a", "CURRLIAB", payments=True), True),
        ("payments", account("a", "CURRENT"), False),
        ("payments", account("a", "BANK", status="ARCHIVED"), False),
        ("deposit", account("a", "BANK"), True),
        ("deposit", account("a", "CURRENT", payments=True), False),
        ("deposit", account("a", "BANK", status="ARCHIVED"), False),
        ("fees", account("a", "EXPENSE"), True),
        ("fees", account("a", "OVERHEADS"), True),
        ("fees", account("a", "DIRECTCOSTS"), True),
        ("fees", account("a", "REVENUE"), False),
        ("fees", account("a", "EXPENSE", status="ARCHIVED"), False),
        ("income", account("a", "REVENUE"), True),
        ("income", account("a", "SALES"), True),
        ("income", account("a", "OTHERINCOME"), True),
        ("income", account("a", "EXPENSE"), False),
        ("income", account("a", "EQUITY"), False),
    ],
)
def test_qualifies(role, acc, expected):
    assert qualifies(role, acc) is expected


def test_candidates_per_role_sorted_by_code():
    found = {role: [a.account_id for a in accs] for role, accs in candidates(CHART).items()}
    assert found == {
        "payments": ["bank-1", "bank-2", "undeposited"],
        "deposit": ["bank-1", "bank-2"],
        "fees": ["cogs", "fees", "overheads"],
        "income": ["sales", "other-income"],
    }


def test_valid_choice_with_clearing_account():
    choice = validate_choice(CHART, {"payments": "undeposited", "deposit": "bank-1", "fees": "fees",
                                     "income": "sales"})
    assert choice.payments_account_id == "undeposited"
    assert choice.payments_account_is_bank is False
    assert choice.deposit_account_id == "bank-1"
    assert (choice.fees_account_id, choice.income_account_id) == ("fees", "sales")


def test_valid_choice_bank_payments_optional_roles_empty():
    choice = validate_choice(CHART, {"payments": "bank-2", "deposit": "bank-1", "fees": "", "income": None})
    assert choice.payments_account_is_bank is True
    assert choice.fees_account_id is None and choice.income_account_id is None


def test_ids_match_case_insensitively_and_keep_xeros_spelling():
    choice = validate_choice(CHART, {"payments": "BANK-2", "deposit": "Bank-1"})
    assert (choice.payments_account_id, choice.deposit_account_id) == ("bank-2", "bank-1")


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ({"payments": "receivable", "deposit": "bank-1"},
         "Payments account: 610 CURRENT receivable has type CURRENT; the payments account must be "
         "a BANK account or an account with payments enabled"),
        ({"payments": "bank-1", "deposit": "undeposited"},
         "Deposit account: 615 CURRENT undeposited has type CURRENT; the deposit account must be a "
         "BANK account"),
        ({"payments": "bank-1", "deposit": "bank-1"},
         "Deposit account: 090 BANK bank-1 is also the payments account; the deposit account must be a "
         "different account"),
        ({"payments": "bank-old", "deposit": "bank-1"},
         "Payments account: 092 BANK bank-old is ARCHIVED; chosen accounts must be ACTIVE"),
        ({"payments": "bank-1", "deposit": "bank-2", "fees": "sales"},
         "Fees account: 200 REVENUE sales has type REVENUE; the fees account must be an expense account"),
        ({"payments": "bank-1", "deposit": "bank-2", "income": "fees"},
         "Income account: 404 EXPENSE fees has type EXPENSE; the income account must be a revenue"),
        ({"payments": "bank-1", "deposit": "nope"},
         "Deposit account: account nope is not in this organisation's chart of accounts"),
        ({"deposit": "bank-1"}, "Payments account is required"),
        ({"payments": "bank-1", "deposit": ""}, "Deposit account is required"),
    ],
)
def test_refusals_name_the_rule(chosen, expected):
    with pytest.raises(AccountChoiceError) as info:
        validate_choice(CHART, chosen)
    assert any(m.startswith(expected) for m in info.value.messages), info.value.messages


def test_every_broken_rule_is_reported():
    with pytest.raises(AccountChoiceError) as info:
        validate_choice(CHART, {"payments": "equity", "deposit": "sales", "fees": "bank-1"})
    assert len(info.value.messages) == 3
    assert str(info.value) == "; ".join(info.value.messages)


def test_unknown_role_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown account role"):
        validate_choice(CHART, {"payments": "bank-1", "deposit": "bank-2", "tips": "fees"})
