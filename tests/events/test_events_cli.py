"""`xero-sync event ...`: each event from the shell records and prints its ids; a refusal prints
one line naming the field, exits 2 and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.events.test_events import snapshot
from xero_sync.commands.cli import main
from xero_sync.store import schema
from xero_sync.store.connections import ensure_partner


@pytest.fixture
def cli(store_engine, db_url):
    with store_engine.begin() as conn:
        ensure_partner(conn, "acme", "Acme")

    def run(*argv: str) -> int:
        return main(["event", *argv, "--database-url", db_url])

    return store_engine, run


def test_a_day_of_events_from_the_shell(cli, capsys):
    engine, run = cli
    assert run("customer-created", "--partner", "acme", "--name", "Jane Doe") == 0
    assert "customer_id 1" in capsys.readouterr().out
    assert run("invoice-created", "--partner", "acme", "--number", "ALT-1", "--currency", "USD",
               "--amount", "250.00", "--issue-date", "2026-11-10", "--customer-id", "1") == 0
    out = capsys.readouterr().out
    assert out.strip() == "recorded invoice-created for partner acme: invoice_id 1"
    assert run("invoice-edited", "--partner", "acme", "--invoice-id", "1", "--amount", "300") == 0
    assert run("payment-taken", "--partner", "acme", "--payment-id", "pay_1", "--invoice-id", "1",
               "--amount", "200.00", "--currency", "USD", "--paid-on", "2026-11-11", "--fee", "2") == 0
    assert "payment_id pay_1, outbox_id 1" in capsys.readouterr().out
    assert run("payment-taken", "--partner", "acme", "--payment-id", "pay_2", "--invoice-id", "1",
               "--amount", "100.00", "--currency", "USD", "--paid-on", "2026-11-11") == 0
    assert run("payment-failed", "--partner", "acme", "--payment-id", "pay_2", "--status", "refunded") == 0
    assert run("payout-sent", "--partner", "acme", "--payout-id", "po_1", "--currency", "USD",
               "--payment-ids", "pay_1", "--fees", "2.00", "--paid-out-on", "2026-11-12") == 0
    assert "payout_id po_1, outbox_id 3" in capsys.readouterr().out
    assert run("archived", "--partner", "acme", "--subject", "customer", "--subject-id", "1") == 0
    with engine.connect() as conn:
        kinds = conn.execute(sa.select(schema.outbox.c.kind, schema.outbox.c.status)
                             .order_by(schema.outbox.c.outbox_id)).all()
        inv = conn.execute(sa.select(schema.invoices)).one()
    assert kinds == [("deposit", "pending"), ("deposit", "cancelled"), ("payout", "pending")]
    assert (inv.total_minor, inv.outstanding_minor, inv.status) == (30_000, 10_000, "partially_paid")


def test_refunds_and_idempotency_keys_from_the_shell(cli, capsys):
    engine, run = cli
    keyed = ("customer-created", "--partner", "acme", "--name", "Jane", "--idempotency-key", "c-1")
    assert run(*keyed) == 0 and run(*keyed) == 0  # a retry: the same customer
    assert capsys.readouterr().out.count("customer_id 1") == 2
    assert run("invoice-created", "--partner", "acme", "--number", "ALT-1", "--currency", "USD",
               "--amount", "100", "--issue-date", "2026-11-10") == 0
    for pid, amount in (("pay_1", "40"), ("pay_2", "60")):
        assert run("payment-taken", "--partner", "acme", "--payment-id", pid, "--invoice-id", "1",
                   "--amount", amount, "--currency", "USD", "--paid-on", "2026-11-11") == 0
    assert run("payout-sent", "--partner", "acme", "--payout-id", "po_1", "--currency", "USD",
               "--payment-ids", "pay_1", "--fees", "0", "--paid-out-on", "2026-11-12") == 0
    assert run("payment-failed", "--partner", "acme", "--payment-id", "pay_1", "--status", "refunded") == 0
    assert run("payout-sent", "--partner", "acme", "--payout-id", "po_2", "--currency", "USD",
               "--payment-ids", "pay_2", "--refund-ids", "pay_1", "--fees", "1",
               "--paid-out-on", "2026-11-13") == 0
    with engine.connect() as conn:
        net = conn.execute(sa.select(schema.payouts.c.net_minor)
                           .where(schema.payouts.c.payout_id == "po_2")).scalar_one()
        customers = conn.execute(sa.select(sa.func.count()).select_from(schema.customers)).scalar_one()
    assert (net, customers) == (6_000 - 4_000 - 100, 1)  # pay_2 less the refund of pay_1, less fees


@pytest.mark.parametrize(("argv", "message"), [
    (["payment-taken", "--partner", "acme", "--payment-id", "pay 1", "--invoice-id", "1", "--amount", "1",
      "--currency", "USD", "--paid-on", "2026-11-11"], "payment-taken refused: payment_id: 'pay 1' is not an id"),
    (["invoice-created", "--partner", "acme", "--number", "N", "--currency", "USD", "--amount", "1.001",
      "--issue-date", "2026-11-11"], "amount: 1.001 has more than 2 decimals"),
    (["invoice-created", "--partner", "nobody", "--number", "N", "--currency", "USD", "--amount", "1",
      "--issue-date", "2026-11-11"], "partner_id: unknown partner 'nobody'"),
    (["invoice-edited", "--partner", "acme", "--invoice-id", "1"], "invoice_id: no invoice 1"),
])
def test_refusals_print_one_line_and_exit_2(cli, capsys, argv, message):
    engine, run = cli
    before = snapshot(engine)
    assert run(*argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert err.startswith("xero-sync event: ")
    assert snapshot(engine) == before


def test_the_console_command_exits_non_zero_on_refusal(cli, db_url):
    """The real process: one line on stderr, exit code 2."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        # What the `xero-sync` console script runs.
        [sys.executable, "-c", "import sys; from xero_sync.commands.cli import main; sys.exit(main())", "event", "payout-sent", "--partner", "acme",
         "--payout-id", "po'1", "--currency", "USD", "--payment-ids", "p1", "--fees", "0",
         "--paid-out-on", "2026-11-12", "--database-url", db_url],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "xero-sync event: payout-sent refused: payout_id: \"po'1\" is not an id: use letters, digits "
        "and _ . : - (starting with a letter or digit)"]
