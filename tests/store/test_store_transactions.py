"""The store's own guarantees behind the events (issue 18): SQLite write transactions take the write
lock when they begin (BEGIN IMMEDIATE) while plain reads never wait for a writer, and migration
0011 keys payments and payouts per partner, keeps existing rows, and refuses to upgrade a store
holding two Alternative invoices with one number, naming them."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy as sa

from xero_sync.store import schema
from xero_sync.store.db import make_engine, upgrade


def test_sqlite_write_transactions_begin_immediate_and_reads_do_not_wait(tmp_path):
    path = tmp_path / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)  # a second writer that never waits
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with engine.begin():
            # Nothing written yet, but the write lock is ours: the other writer is refused at once.
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("INSERT INTO t VALUES (1)")
        with engine.connect() as conn:  # a read: a snapshot, no write lock
            assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 0
            other.execute("INSERT INTO t VALUES (2)")
            assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 0  # its snapshot
        with engine.connect() as conn, conn.begin():  # an explicit begin on a connection: a writer
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("INSERT INTO t VALUES (3)")
    finally:
        other.close()
        engine.dispose()


def test_sqlite_read_then_write_is_serialised(tmp_path):
    """Two writers that each read a balance and write it less 10: never a lost update."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE balance (v INTEGER)")
            conn.exec_driver_sql("INSERT INTO balance VALUES (100)")
        barrier = threading.Barrier(8)

        def take() -> None:
            barrier.wait()
            with engine.begin() as conn:
                v = conn.exec_driver_sql("SELECT v FROM balance").scalar_one()
                conn.exec_driver_sql(f"UPDATE balance SET v = {v - 10}")

        threads = [threading.Thread(target=take) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT v FROM balance").scalar_one() == 20
    finally:
        engine.dispose()


def _seed_0010(conn: sa.Connection) -> None:
    conn.execute(sa.text("INSERT INTO partners (partner_id, name) VALUES ('acme', 'Acme'), ('beta', 'Beta')"))
    conn.execute(sa.text(
        "INSERT INTO invoices (partner_id, source, number, currency, issue_date, total_minor, "
        "outstanding_minor, status) VALUES ('acme', 'alternative', 'ALT-1', 'USD', '2026-11-01', 500, 0, 'paid')"))
    conn.execute(sa.text(
        "INSERT INTO payouts (payout_id, partner_id, currency, gross_minor, fees_minor, net_minor, "
        "paid_out_on) VALUES ('po_1', 'acme', 'USD', 500, 0, 500, '2026-11-03')"))
    conn.execute(sa.text(
        "INSERT INTO payments (payment_id, partner_id, invoice_id, source, amount_minor, currency, "
        "paid_on, status, payout_id) VALUES ('pay_1', 'acme', 1, 'alternative', 500, 'USD', "
        "'2026-11-02', 'succeeded', 'po_1')"))


def test_0011_keys_payments_and_payouts_per_partner_and_keeps_rows(db_url):
    upgrade(db_url, "0010")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            _seed_0010(conn)
        upgrade(db_url, "0011")
        inspector = sa.inspect(engine)
        assert inspector.get_pk_constraint("payments")["constrained_columns"] == ["partner_id", "payment_id"]
        assert inspector.get_pk_constraint("payouts")["constrained_columns"] == ["partner_id", "payout_id"]
        with engine.begin() as conn:
            row = conn.execute(sa.select(schema.payments.c.partner_id, schema.payments.c.payout_id)).one()
            assert tuple(row) == ("acme", "po_1")
            # beta may now use acme's ids; a payment still cannot name a payout its partner lacks.
            conn.execute(sa.insert(schema.payouts).values(
                payout_id="po_1", partner_id="beta", currency="USD", gross_minor=1, fees_minor=0,
                net_minor=1, paid_out_on=sa.func.current_date()))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.update(schema.payments).values(partner_id="beta", payout_id="po_9"))
    finally:
        engine.dispose()


def test_0011_refuses_duplicate_alternative_invoice_numbers_naming_them(db_url):
    upgrade(db_url, "0010")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            _seed_0010(conn)
            conn.execute(sa.text(
                "INSERT INTO invoices (partner_id, source, number, currency, issue_date, total_minor, "
                "outstanding_minor, status) VALUES ('acme', 'alternative', 'ALT-1', 'USD', '2026-11-05', "
                "100, 100, 'unpaid')"))
        with pytest.raises(RuntimeError, match=r"acme/ALT-1 x2"):
            upgrade(db_url)
        with engine.connect() as conn:  # nothing changed: still at 0010
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0010"
    finally:
        engine.dispose()


def test_0011_outbox_and_connection_statuses_are_checked(store_engine):
    with store_engine.begin() as conn:
        conn.execute(sa.insert(schema.partners).values(partner_id="acme", name="Acme"))
        conn.execute(sa.insert(schema.xero_connections).values(partner_id="acme", status="pending"))
        conn.execute(sa.insert(schema.outbox).values(
            partner_id="acme", kind="payment", subject_id="pay_1", idempotency_key="k1", reference="pay_1",
            payload={}, status="held"))
    for statement in (sa.update(schema.outbox).values(status="lost"),
                      sa.update(schema.xero_connections).values(status="paused")):
        with pytest.raises(sa.exc.IntegrityError), store_engine.begin() as conn:
            conn.execute(statement)


def test_0011_refuses_unknown_statuses_naming_them(db_url):
    upgrade(db_url, "0010")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            _seed_0010(conn)
            conn.execute(sa.text("INSERT INTO outbox (partner_id, kind, subject_id, idempotency_key, "
                                 "reference, payload, status) VALUES ('acme', 'payment', 'pay_1', 'k', "
                                 "'pay_1', '{}', 'lost')"))
        with pytest.raises(RuntimeError, match=r"outbox.status; found 'lost' x1"):
            upgrade(db_url)
    finally:
        engine.dispose()
