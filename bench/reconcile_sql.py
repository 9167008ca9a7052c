"""The one-query SQL baseline of bench/reconcile.py: the same diff rules as ONE PostgreSQL query.

`run_sql(inp, conninfo)` creates a throwaway database `xs_bench_<random>`, COPYs the generated
frames into one flat table each (the ReconcileInput columns, already joined: the baseline gets
its inputs for free), ANALYZEs, runs DIFF_SQL (counts per kind and explained) and drops the
database.
"""

from __future__ import annotations

import io
import secrets
import time

import pandas as pd

from xero_sync.sync.reconcile import IN_FLIGHT_OUTBOX, ReconcileInput
# --- PostgreSQL -------------------------------------------------------------------------------

_TABLES = {
    "pinv": ("platform_invoices", "invoice_id bigint, xero_invoice_id text, source text, status text, "
             "outstanding_minor bigint, total_minor bigint, currency text, deleted_in_xero boolean, "
             "archived boolean, conflict text, pending_payments_minor bigint"),
    "xinv": ("xero_invoices", "xero_invoice_id text, status text, amount_due_minor bigint, "
             "total_minor bigint, amount_paid_minor bigint, amount_credited_minor bigint, "
             "currency text, type text"),
    "ppay": ("platform_payments", "payment_id text, invoice_id bigint, source text, "
             "amount_minor bigint, status text, payout_id text, xero_payment_id text, "
             "outbox_status text"),
    "xpay": ("xero_payments", "payment_id text, invoice_id text, amount_minor bigint, status text, "
             "reference text"),
    "payouts": ("payouts", "payout_id text, net_minor bigint, gross_minor bigint, fees_minor bigint, "
                "outbox_status text, xero_amount_minor bigint"),
    "customers": ("customers", "customer_id bigint, xero_contact_id text, deleted_in_xero boolean, "
                  "archived boolean"),
    "rejected": ("rejected", "outbox_id bigint, kind text, subject_id text, error text"),
}

_INFLIGHT_SQL = ", ".join(f"'{s}'" for s in IN_FLIGHT_OUTBOX)

# The same rules as xero_sync.sync.reconcile, as one statement: one SELECT per kind, UNION ALL,
# counted per kind (with how many are explained).
DIFF_SQL = f"""
WITH
xi AS (SELECT DISTINCT ON (xero_invoice_id) * FROM xinv WHERE type = 'ACCREC'
       ORDER BY xero_invoice_id),
synced AS (SELECT * FROM pinv WHERE source = 'xero' AND xero_invoice_id IS NOT NULL),
j AS (
  SELECT s.status, s.outstanding_minor AS p_out, s.deleted_in_xero, x.status AS x_status,
         x.amount_due_minor AS x_due, x.total_minor AS x_total,
         coalesce(s.pending_payments_minor, 0) AS pending
  FROM synced s JOIN xi x USING (xero_invoice_id)),
jj AS (
  SELECT *,
    CASE WHEN x_due <= 0 THEN 'paid' WHEN x_due < x_total THEN 'partially_paid' ELSE 'unpaid' END
      AS expected,
    CASE WHEN x_due - pending <= 0 THEN 'paid' WHEN x_due - pending < x_total
      THEN 'partially_paid' ELSE 'unpaid' END AS expected_after_pending,
    (pending > 0 AND x_due - pending = p_out) AS by_pending,
    x_status IN ('AUTHORISED', 'PAID') AS live
  FROM j),
inv1 AS (SELECT DISTINCT ON (invoice_id) invoice_id, source FROM pinv ORDER BY invoice_id),
live_ids AS (SELECT DISTINCT payment_id FROM xpay WHERE status = 'AUTHORISED'),
live_refs AS (SELECT DISTINCT reference FROM xpay
              WHERE status = 'AUTHORISED' AND reference IS NOT NULL),
pp AS (
  SELECT p.*, i.source AS inv_source,
         coalesce(p.outbox_status IN ({_INFLIGHT_SQL}), false) AS in_flight,
         (li.payment_id IS NOT NULL OR lr.reference IS NOT NULL) AS in_xero,
         coalesce(p.xero_payment_id, CASE WHEN p.payment_id LIKE 'xero\\_%%'
                  THEN substr(p.payment_id, 6) ELSE p.payment_id END) AS xero_side_id
  FROM ppay p LEFT JOIN inv1 i USING (invoice_id)
  LEFT JOIN live_ids li ON li.payment_id = p.xero_payment_id
  LEFT JOIN live_refs lr ON lr.reference = p.payment_id),
xp1 AS (SELECT DISTINCT ON (payment_id) payment_id, status FROM xpay ORDER BY payment_id),
live AS (SELECT * FROM xpay WHERE status = 'AUTHORISED'),
acct AS (SELECT coalesce(sum(amount_minor), 0) AS pending FROM pp WHERE source = 'alternative'
         AND in_flight AND status = 'succeeded' AND payout_id IS NULL),
d AS (
  SELECT 'status_mismatch' AS kind, (by_pending AND status = expected_after_pending) AS explained
    FROM jj WHERE live AND status <> expected
  UNION ALL SELECT 'status_mismatch', false FROM jj
    WHERE x_status IN ('VOIDED', 'DELETED') AND NOT deleted_in_xero
  UNION ALL SELECT 'balance_mismatch', by_pending FROM jj WHERE live AND p_out <> x_due
  UNION ALL SELECT 'status_mismatch', false FROM synced s
    WHERE NOT EXISTS (SELECT 1 FROM xi WHERE xi.xero_invoice_id = s.xero_invoice_id)
  UNION ALL SELECT 'status_mismatch', false FROM xi
    WHERE status IN ('AUTHORISED', 'PAID')
      AND NOT EXISTS (SELECT 1 FROM synced s WHERE s.xero_invoice_id = xi.xero_invoice_id)
  UNION ALL SELECT 'payment_missing_in_xero', in_flight FROM pp
    WHERE source = 'alternative' AND status = 'succeeded'
      AND outbox_status IS DISTINCT FROM 'rejected' AND inv_source IS NOT NULL
      AND CASE WHEN inv_source = 'xero' THEN NOT in_xero ELSE xero_payment_id IS NULL END
  UNION ALL SELECT 'status_mismatch', in_flight FROM pp
    WHERE source = 'alternative' AND status IN ('failed', 'refunded')
      AND inv_source = 'xero' AND in_xero
  UNION ALL SELECT 'status_mismatch', false FROM pp JOIN xp1 ON xp1.payment_id = pp.xero_side_id
    WHERE pp.source <> 'alternative'
      AND pp.status <> CASE WHEN xp1.status = 'DELETED' THEN 'reversed' ELSE 'succeeded' END
  UNION ALL SELECT 'xero_payment_unknown', false FROM live l
    WHERE EXISTS (SELECT 1 FROM synced s WHERE s.xero_invoice_id = l.invoice_id)
      AND NOT EXISTS (SELECT 1 FROM ppay p WHERE p.xero_payment_id = l.payment_id)
      AND NOT EXISTS (SELECT 1 FROM pp WHERE pp.source <> 'alternative'
                      AND pp.xero_side_id = l.payment_id)
      AND NOT EXISTS (SELECT 1 FROM ppay p WHERE p.source = 'alternative'
                      AND p.payment_id = l.reference)
  UNION ALL SELECT 'payout_not_recorded', coalesce(outbox_status IN ({_INFLIGHT_SQL}), false)
    FROM payouts WHERE xero_amount_minor IS NULL
  UNION ALL SELECT 'payout_amount_mismatch', false FROM payouts
    WHERE xero_amount_minor IS NOT NULL AND xero_amount_minor <> net_minor
  UNION ALL SELECT 'payments_account_balance_mismatch', pending > 0 AND pending = %(gap)s
    FROM acct WHERE %(known)s AND %(gap)s <> 0
  UNION ALL SELECT 'deleted_in_xero', false FROM pinv WHERE deleted_in_xero AND NOT archived
  UNION ALL SELECT 'deleted_in_xero', false FROM customers WHERE deleted_in_xero AND NOT archived
  UNION ALL SELECT 'duplicate', false FROM live
    WHERE reference IN (SELECT payment_id FROM ppay WHERE source = 'alternative')
    GROUP BY reference HAVING count(*) > 1
  UNION ALL SELECT 'duplicate', false FROM xpay GROUP BY payment_id HAVING count(*) > 1
  UNION ALL SELECT 'duplicate', false FROM ppay WHERE xero_payment_id IS NOT NULL
    GROUP BY xero_payment_id HAVING count(*) > 1
  UNION ALL SELECT 'duplicate', false FROM pinv WHERE xero_invoice_id IS NOT NULL
    GROUP BY xero_invoice_id HAVING count(*) > 1
  UNION ALL SELECT 'duplicate', false FROM customers WHERE xero_contact_id IS NOT NULL
    GROUP BY xero_contact_id HAVING count(*) > 1
  UNION ALL SELECT 'rejected_write', false FROM rejected
  UNION ALL SELECT 'conflict', false FROM pinv WHERE conflict IS NOT NULL AND conflict <> ''
)
SELECT kind, count(*) AS n, count(*) FILTER (WHERE explained) AS explained
FROM d GROUP BY kind ORDER BY kind
"""


def _copy(conn, table: str, columns_sql: str, df: pd.DataFrame) -> None:
    conn.execute(f"CREATE TABLE {table} ({columns_sql})")
    buf = io.StringIO()
    # to_csv writes NA as an empty unquoted field, which COPY ... CSV reads as NULL.
    df.to_csv(buf, index=False, header=False)
    with conn.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buf.getvalue())


def run_sql(inp: ReconcileInput, conninfo: str) -> tuple[dict[str, tuple[int, int]], float, float]:
    """Counts per kind from the SQL diff, its time, and the time spent loading."""
    import psycopg

    name = f"xs_bench_{secrets.token_hex(6)}"
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{conninfo} dbname={name}", autocommit=True) as conn:
            start = time.perf_counter()
            for table, (attr, columns_sql) in _TABLES.items():
                df = getattr(inp, attr)
                cols = [c.split()[0] for c in columns_sql.split(", ")]
                _copy(conn, table, columns_sql, df[cols])
            conn.execute("ANALYZE")
            load = time.perf_counter() - start
            # JIT compiles this many-branch query for ~1.5 s before it runs, on plans whose
            # estimates are far off; off is the fair (faster) setting. Hashes stay in memory.
            conn.execute("SET jit = off")
            conn.execute("SET work_mem = '256MB'")
            bal, awaiting = inp.payments_account_balance_minor, inp.awaiting_payout_minor
            known = bal is not None and awaiting is not None
            params = {"known": known, "gap": (awaiting - bal) if known else 0}
            start = time.perf_counter()
            rows = conn.execute(DIFF_SQL, params).fetchall()
            seconds = time.perf_counter() - start
        return {k: (n, e) for k, n, e in rows}, seconds, load
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
