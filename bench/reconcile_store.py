"""The asset path of bench/reconcile.py: the generated partner in a platform store, loaded and
diffed by the code the reconciliation_diff asset runs.

`seed(url, inp)` writes the rows `bench/reconcile.py`'s `generate` made into a store migrated with
`xero_sync.store.db.upgrade`: partner and connection (payments account set up, not a bank),
customers, invoices, payments, payouts, the outbox rows behind each payment's and payout's
`outbox_status` (payout payloads as `outbox.record_payout` writes them), and the landed Xero
invoices and payments. PostgreSQL tables are filled with COPY (CSV, `\\N` for NULL). The loader
then reads back the frames `generate` made (ids of rejected outbox rows aside), so the diff
through the store must count the same differences per kind as the diff in memory.

`run_asset_path(...)` then times, in a fresh Python process (so its peak RSS is the asset's work
and nothing the bench generated), `diffs.load_reconcile_input` + `reconcile.diff` as the asset
calls them, with the payout amounts a targeted pull would find and a payments account balance.
The child reports wall times and its kernel high-water mark VmHWM (peak resident set size of
the whole process: interpreter, libraries, frames, diff).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

from xero_sync.store import db
from xero_sync.sync.reconcile import ReconcileInput

PARTNER = "bench"
PAYMENTS_ACCOUNT = "ACC-PAYMENTS"
DAY = "2026-01-15"
STAMP = "2026-01-15 12:00:00+00"


def _csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, header=False, na_rep="\\N")
    return buf.getvalue()


def _copy(conn: psycopg.Connection, table: str, df: pd.DataFrame) -> None:
    columns = ", ".join(df.columns)
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as cp:
        cp.write(_csv(df))


def _obj(values) -> np.ndarray:
    """An object array with None for NA (what to_csv writes as NULL)."""
    out = np.array(pd.Series(values).astype(object), dtype=object)
    out[pd.isna(out)] = None
    return out


def tables(inp: ReconcileInput) -> dict[str, pd.DataFrame]:
    """The store's rows for the generated partner, table by table (in foreign-key order)."""
    pi, xi, pp, xp, po, cu = (inp.platform_invoices, inp.xero_invoices, inp.platform_payments,
                              inp.xero_payments, inp.payouts, inp.customers)
    out: dict[str, pd.DataFrame] = {}
    out["partners"] = pd.DataFrame({"partner_id": [PARTNER], "name": ["Bench partner"]})
    out["xero_connections"] = pd.DataFrame({
        "partner_id": [PARTNER], "tenant_id": ["bench-tenant"], "status": ["connected"],
        "base_currency": ["USD"], "payments_account_id": [PAYMENTS_ACCOUNT],
        "payments_account_is_bank": [False], "deposit_account_id": ["ACC-DEPOSIT"],
    })
    out["customers"] = pd.DataFrame({
        "customer_id": cu["customer_id"], "partner_id": PARTNER, "source": "xero",
        "xero_contact_id": cu["xero_contact_id"], "name": "Customer " + cu["customer_id"].astype(str),
        "deleted_in_xero": cu["deleted_in_xero"], "archived": cu["archived"],
    })
    from_xero = pi["source"].eq("xero")
    out["invoices"] = pd.DataFrame({
        "invoice_id": pi["invoice_id"], "partner_id": PARTNER, "source": pi["source"],
        "xero_invoice_id": _obj(pi["xero_invoice_id"]), "currency": pi["currency"],
        "issue_date": DAY, "total_minor": pi["total_minor"],
        "outstanding_minor": pi["outstanding_minor"], "status": pi["status"],
        "deleted_in_xero": pi["deleted_in_xero"], "archived": pi["archived"],
        "conflict": _obj(pi["conflict"]),
        # Xero's last amount is the invoice's own: no edit made in Alternative.
        "xero_total_minor": pd.array(pi["total_minor"].where(from_xero), dtype="Int64"),
    })
    out["payouts"] = pd.DataFrame({
        "payout_id": po["payout_id"], "partner_id": PARTNER, "currency": "USD",
        "gross_minor": po["gross_minor"], "fees_minor": po["fees_minor"],
        "net_minor": po["net_minor"], "paid_out_on": DAY,
    })
    currency = pi.set_index("invoice_id")["currency"]
    out["payments"] = pd.DataFrame({
        "payment_id": pp["payment_id"], "partner_id": PARTNER, "invoice_id": pp["invoice_id"],
        "source": pp["source"], "amount_minor": pp["amount_minor"],
        "currency": currency.reindex(pp["invoice_id"]).to_numpy(), "paid_on": DAY,
        "status": pp["status"], "payout_id": _obj(pp["payout_id"]),
        "xero_payment_id": _obj(pp["xero_payment_id"]),
    })
    out["outbox"] = _outbox(inp)
    out["xero_invoices"] = pd.DataFrame({
        "partner_id": PARTNER, "invoice_id": xi["xero_invoice_id"], "type": xi["type"],
        "status": xi["status"], "contact_id": "XC-0", "month": "2026-01-01", "date": DAY,
        "currency": xi["currency"], "total_minor": xi["total_minor"],
        "amount_due_minor": xi["amount_due_minor"], "amount_paid_minor": xi["amount_paid_minor"],
        "amount_credited_minor": xi["amount_credited_minor"], "updated_at": STAMP,
        "pulled_at": STAMP,
    })
    out["xero_payments"] = pd.DataFrame({
        "partner_id": PARTNER, "payment_id": xp["payment_id"], "invoice_id": _obj(xp["invoice_id"]),
        "month": "2026-01-01", "date": DAY, "amount_minor": xp["amount_minor"],
        "status": xp["status"], "reference": _obj(xp["reference"]),
        "account_id": PAYMENTS_ACCOUNT, "updated_at": STAMP, "pulled_at": STAMP,
    })
    return out


def _outbox(inp: ReconcileInput) -> pd.DataFrame:
    """One write per payment with an outbox status (payment, or deposit on an Alternative
    invoice; Xero's message on rejected ones) and one per payout, payloads as the outbox holds."""
    pp, pi, po = inp.platform_payments, inp.platform_invoices, inp.payouts
    rejected_error = dict(zip(inp.rejected["subject_id"], inp.rejected["error"]))
    w = pp.loc[pp["outbox_status"].notna()]
    inv = pi.set_index("invoice_id")
    inv_source = inv["source"].reindex(w["invoice_id"]).to_numpy()
    kinds = np.where(inv_source == "xero", "payment", "deposit")
    payloads = [
        json.dumps({"payment_id": pid, "invoice_id": int(iid), "xero_invoice_id": xid,
                    "amount_minor": int(amount), "fee_minor": 0, "currency": cur, "date": DAY})
        for pid, iid, xid, amount, cur in zip(
            w["payment_id"], w["invoice_id"], _obj(inv["xero_invoice_id"].reindex(w["invoice_id"])),
            w["amount_minor"], inv["currency"].reindex(w["invoice_id"]))
    ]
    payments = pd.DataFrame({
        "kind": kinds, "subject_id": w["payment_id"].to_numpy(), "payload": payloads,
        "status": w["outbox_status"].to_numpy(),
        "error": _obj([rejected_error.get(pid) for pid in w["payment_id"]]),
    })
    payouts = pd.DataFrame({
        "kind": "payout", "subject_id": po["payout_id"].to_numpy(),
        "payload": [json.dumps(payload) for payload in _payout_payloads(inp)],
        "status": po["outbox_status"].to_numpy(), "error": None,
    })
    rows = pd.concat([payments, payouts], ignore_index=True)
    rows.insert(0, "partner_id", PARTNER)
    rows["idempotency_key"] = "xs-" + PARTNER + "-" + rows["kind"] + "-" + rows["subject_id"]
    rows["reference"] = rows["subject_id"]
    return rows


def _deposits(inp: ReconcileInput) -> pd.DataFrame:
    """Paid-out payments with their payout and whether they are stand-alone deposits."""
    pp, pi = inp.platform_payments, inp.platform_invoices
    out = pp.loc[pp["payout_id"].notna(), ["payout_id", "payment_id", "amount_minor", "invoice_id"]]
    source = pi.set_index("invoice_id")["source"].reindex(out["invoice_id"]).to_numpy()
    return out.assign(standalone=source != "xero")


def _payout_payloads(inp: ReconcileInput) -> list[dict]:
    """The payout payloads outbox.record_payout writes (payments split into money on Xero
    invoices and stand-alone deposits), in inp.payouts' order."""
    by_payout = {pid: g for pid, g in _deposits(inp).groupby("payout_id", sort=False)}
    payloads = []
    for pid, gross, fees, net in zip(inp.payouts["payout_id"], inp.payouts["gross_minor"],
                                     inp.payouts["fees_minor"], inp.payouts["net_minor"]):
        g = by_payout[pid].sort_values("payment_id")
        dep = g.loc[g["standalone"]]
        payloads.append({
            "payout_id": pid, "currency": "USD", "payment_ids": g["payment_id"].tolist(),
            "refund_ids": [], "gross_minor": int(gross), "fees_minor": int(fees),
            "net_minor": int(net),
            "xero_invoice_minor": int(g.loc[~g["standalone"], "amount_minor"].sum()),
            "deposits": [{"payment_id": p, "amount_minor": int(a)}
                         for p, a in zip(dep["payment_id"], dep["amount_minor"])],
            "deposit_payment_ids": dep["payment_id"].tolist(), "date": DAY,
        })
    return payloads


def seed(url: str, inp: ReconcileInput) -> None:
    """Migrate the (empty) PostgreSQL store at `url` and COPY the generated partner into it."""
    db.upgrade(url)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo) as conn:
        # Throwaway database, rows consistent by construction: skip foreign-key triggers while
        # loading (indexes and unique constraints still apply).
        conn.execute("SET session_replication_role = replica")
        for table, df in tables(inp).items():
            _copy(conn, table, df)
        for table, column in (("customers", "customer_id"), ("invoices", "invoice_id")):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                         f"(SELECT max({column}) FROM {table}))")
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def payout_amounts(inp: ReconcileInput) -> dict[str, int | None]:
    """What a targeted pull would find in Xero for each written payout (None: not there): the
    payout's own writes, i.e. what the generated bank line shows less its stand-alone deposits
    (all written), so own writes + listed deposits = the generated `xero_amount_minor`."""
    d = _deposits(inp)
    listed = d.loc[d["standalone"]].groupby("payout_id")["amount_minor"].sum()
    po = inp.payouts.loc[inp.payouts["outbox_status"].eq("done")]
    return {pid: None if pd.isna(v) else int(v) - int(listed.get(pid, 0))
            for pid, v in zip(po["payout_id"], po["xero_amount_minor"])}


# --- the asset path, measured in its own process -----------------------------------------------


def run_asset_path(url: str, inp: ReconcileInput) -> dict:
    """Load + diff through the asset's code in a child process: its figures (see _child)."""
    with tempfile.TemporaryDirectory() as tmp:
        amounts = Path(tmp) / "payout_amounts.json"
        amounts.write_text(json.dumps(payout_amounts(inp)))
        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
        done = subprocess.run(
            [sys.executable, __file__, url, str(amounts),
             str(inp.payments_account_balance_minor), dt.date.today().isoformat()],
            env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"asset path failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _child(url: str, amounts_file: str, balance: str, as_of: str) -> None:
    """What the reconciliation_diff asset does between its Xero reads and storing the diff."""
    import pyarrow  # noqa: F401  (imported before the baseline, like the code location does)
    import adbc_driver_postgresql.dbapi  # noqa: F401

    from xero_sync.reconciliation import diffs
    from xero_sync.sync import reconcile

    amounts = json.loads(Path(amounts_file).read_text())
    engine = db.make_engine(url)
    baseline = status_kib("VmRSS")
    start = time.perf_counter()
    with engine.begin() as conn:
        inputs = diffs.load_reconcile_input(conn, PARTNER, amounts,
                                            payments_account_minor=int(balance),
                                            as_of=dt.date.fromisoformat(as_of))
    loaded = time.perf_counter()
    out = reconcile.diff(inputs)
    end = time.perf_counter()
    counts = {k: [n, int(out.loc[out["kind"] == k, "explained"].sum())]
              for k, n in reconcile.summary(out).items()}
    print(json.dumps({
        "load_s": loaded - start, "diff_s": end - loaded, "rows": len(out),
        "peak_rss": status_kib("VmHWM") * 1024, "baseline_rss": baseline * 1024,
        "counts": counts,
        "dtypes": {name: sorted({str(t) for t in getattr(inputs, name).dtypes})
                   for name in ("platform_invoices", "platform_payments", "xero_invoices",
                                "xero_payments")},
    }))


if __name__ == "__main__":
    _child(*sys.argv[1:5])
