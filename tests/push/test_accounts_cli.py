"""Set Up Accounts from the command line: listing by role, refusals naming the rule, saving
releases waiting pushes."""

from __future__ import annotations

import pytest

from tests.push.world import World, build_world
from xero_sync.commands.accounts import chart_by_role, choose_accounts
from xero_sync.store import connections
from xero_sync.sync.account_roles import AccountChoiceError


@pytest.fixture
def world(sandbox_factory, store_engine) -> World:
    return build_world(sandbox_factory(invoices=60), store_engine, payments_code=None, pull=False)


def test_chart_is_grouped_by_role(world: World) -> None:
    accounts = world.client().accounts().records
    text = chart_by_role(accounts, {})
    payments_block = text.split("Deposit account")[0]
    assert "615  Undeposited Funds" in payments_block and "090  Business Checking" in payments_block
    assert "404  Merchant Fees" not in payments_block
    deposit_block = text.split("Deposit account")[1].split("Fees account")[0]
    assert "615" not in deposit_block and "090" in deposit_block


def test_refusal_names_the_rule_and_saves_nothing(world: World) -> None:
    with pytest.raises(AccountChoiceError) as refused:
        choose_accounts(world.engine, world.client(), world.partner_id,
                        {"payments": "404", "deposit": "615"})
    message = str(refused.value)
    assert "payments account must be a BANK account or an account with payments enabled" in message
    assert "deposit account must be a BANK account" in message
    with world.engine.connect() as conn:
        assert connections.get_connection(conn, world.partner_id).payments_account_id is None


def test_saving_by_code_releases_waiting_pushes(world: World) -> None:
    world.pull()
    world.record_payments(2)
    from xero_sync.push.engine import push_partner

    push_partner(world.engine, world.client(), world.partner_id)
    assert world.statuses() == {"waiting_accounts": 2}

    choice, released = choose_accounts(world.engine, world.client(), world.partner_id,
                                       {"payments": "095", "deposit": "090", "fees": "404",
                                        "income": "200"})

    assert released == 2 and choice.payments_account_is_bank is True
    assert world.statuses() == {"pending": 2}
    # A later call changing one role keeps the others.
    choice, _ = choose_accounts(world.engine, world.client(), world.partner_id, {"payments": "615"})
    assert choice.payments_account_is_bank is False and choice.fees_account_id is not None


def test_fees_setting_from_the_command_line(world: World, capsys) -> None:
    from xero_sync.commands.cli import build_parser

    choose_accounts(world.engine, world.client(), world.partner_id,
                    {"payments": "615", "deposit": "090", "fees": "404"})
    with world.engine.connect() as conn:
        assert connections.get_connection(conn, world.partner_id).fees_as_spend is False
    choose_accounts(world.engine, world.client(), world.partner_id, {}, "spend")
    with world.engine.connect() as conn:
        saved = connections.get_connection(conn, world.partner_id)
    assert saved.fees_as_spend is True and saved.fees_account_id is not None  # others kept
    with pytest.raises(ValueError, match="fees must be booked as one of"):
        choose_accounts(world.engine, world.client(), world.partner_id, {}, "twice")
    args = build_parser().parse_args(["accounts", "--partner", "acme", "--fees-as", "spend"])
    assert args.fees_as == "spend"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["accounts", "--partner", "acme", "--fees-as", "twice"])
    assert "argument --fees-as: invalid choice: 'twice'" in capsys.readouterr().err
