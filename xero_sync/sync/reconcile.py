"""The reconciliation diff (SPEC section 5): both sides in, every difference out, vectorised.

Pure: the caller reads the platform store and the Xero landing tables into DataFrames (columns
below; money as int64 minor units) and gets back one frame of differences. No Python loop runs
over rows: every kind is a hash lookup, a boolean mask or a groupby, so a partner with a million
invoices diffs in seconds.

Input columns (module constants, in this order; extra columns are ignored):

- PLATFORM_INVOICE_COLUMNS: the platform `invoices` rows. `source` xero | alternative;
  `status` unpaid | partially_paid | paid | void; `conflict` text or NA;
  `pending_payments_minor` = Alternative payments on it whose write is not yet done.
- XERO_INVOICE_COLUMNS: landed Xero invoices (`xero_invoices`), `type` ACCREC | ACCPAY.
- PLATFORM_PAYMENT_COLUMNS: platform `payments` rows; `source` alternative | xero (Xero-side rows
  use payment_id "xero_" + PaymentID); `status` succeeded | failed | refunded | reversed;
  `outbox_status` = status of the payment's latest outbox row, or NA.
- XERO_PAYMENT_COLUMNS: landed Xero payments; `status` AUTHORISED | DELETED.
- PAYOUT_COLUMNS: platform `payouts` with the payout's outbox status and `xero_amount_minor`,
  what Xero shows for the payout deposit/transfer (NA when none was found).
- CUSTOMER_COLUMNS: platform `customers`.
- REJECTED_COLUMNS: outbox rows with status rejected and Xero's message in `error`.
- Scalars: the payments account balance in Xero and the payments received but not yet paid out
  (None = not known: that check is skipped).

Output (DIFF_COLUMNS): one row per difference with `kind` (KINDS), `subject_type`, `subject_id`,
`platform_minor`, `xero_minor` (nullable Int64), `currency`, `explained` (bool: a known cause
such as a push in flight accounts for it), `action` and `detail`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xero_sync.sync import id_codes, invoice_edits, reconcile_money
from xero_sync.sync.diff_rows import DIFF_COLUMNS, IN_FLIGHT_OUTBOX
from xero_sync.sync.diff_rows import empty_diff as _empty_diff
from xero_sync.sync.diff_rows import rows as _rows

PLATFORM_INVOICE_COLUMNS = (
    "invoice_id", "xero_invoice_id", "source", "status", "outstanding_minor", "total_minor",
    "currency", "deleted_in_xero", "archived", "conflict", "pending_payments_minor",
)
XERO_INVOICE_COLUMNS = (
    "xero_invoice_id", "status", "amount_due_minor", "total_minor", "amount_paid_minor",
    "amount_credited_minor", "currency", "type",
)
PLATFORM_PAYMENT_COLUMNS = (
    "payment_id", "invoice_id", "source", "amount_minor", "status", "payout_id",
    "xero_payment_id", "outbox_status",
)
XERO_PAYMENT_COLUMNS = ("payment_id", "invoice_id", "amount_minor", "status", "reference")
PAYOUT_COLUMNS = (
    "payout_id", "net_minor", "gross_minor", "fees_minor", "outbox_status", "xero_amount_minor",
)
CUSTOMER_COLUMNS = ("customer_id", "xero_contact_id", "deleted_in_xero", "archived")
REJECTED_COLUMNS = ("outbox_id", "kind", "subject_id", "error")

KINDS = (
    "status_mismatch", "balance_mismatch", "payment_missing_in_xero", "xero_payment_unknown",
    "payout_not_recorded", "payout_amount_mismatch", "payments_account_balance_mismatch",
    "payments_account_unverified",
    "deleted_in_xero", "duplicate", "rejected_write", "conflict", invoice_edits.KIND,
)

SYNCED_XERO_STATUSES = ("AUTHORISED", "PAID")
GONE_XERO_STATUSES = ("VOIDED", "DELETED")

_COLUMN_SETS = {
    "platform_invoices": PLATFORM_INVOICE_COLUMNS,
    "xero_invoices": XERO_INVOICE_COLUMNS,
    "platform_payments": PLATFORM_PAYMENT_COLUMNS,
    "xero_payments": XERO_PAYMENT_COLUMNS,
    "payouts": PAYOUT_COLUMNS,
    "customers": CUSTOMER_COLUMNS,
    "rejected": REJECTED_COLUMNS,
}


@dataclass(frozen=True)
class ReconcileInput:
    """Both sides of one partner, as frames with the module's column lists."""

    platform_invoices: pd.DataFrame
    xero_invoices: pd.DataFrame
    platform_payments: pd.DataFrame
    xero_payments: pd.DataFrame
    payouts: pd.DataFrame
    customers: pd.DataFrame
    rejected: pd.DataFrame
    payments_account_balance_minor: int | None = None  # what Xero shows on the payments account
    awaiting_payout_minor: int | None = None  # payments received into it, not yet paid out
    currency: str | None = None  # the payments account's currency
    in_doubt_minor: int = 0  # what writes of unknown outcome would move into the payments account
    as_of: str | None = None  # the balance report's date
    balance_unverified: str | None = None  # why the payments account's balance was not compared

    def __post_init__(self) -> None:
        for name, columns in _COLUMN_SETS.items():
            missing = [c for c in columns if c not in getattr(self, name).columns]
            if missing:
                raise ValueError(f"ReconcileInput.{name} lacks columns {missing}")


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame with no rows and the given columns (for sides with nothing to compare)."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def diff(inp: ReconcileInput) -> pd.DataFrame:
    """Every difference between Alternative and Xero for one partner (DIFF_COLUMNS)."""
    ctx = _Context(inp)
    parts = [
        *_invoice_differences(ctx),
        *_payment_differences(ctx),
        *reconcile_money.payout_differences(ctx.inp, ctx.alt_mask, ctx.payment_invoice_source),
        reconcile_money.account_balance(ctx.inp),
        *_deleted_in_xero(ctx),
        *_duplicates(ctx),
        _rejected_writes(ctx),
        _conflicts(ctx),
        _edit_conflicts(ctx),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_diff()
    out = pd.concat(parts, ignore_index=True)
    return out[list(DIFF_COLUMNS)]


def summary(df: pd.DataFrame) -> dict[str, int]:
    """Number of differences per kind (kinds with none are left out)."""
    counts = df["kind"].value_counts(sort=False)
    return {str(kind): int(n) for kind, n in counts.items()}


def unexplained(df: pd.DataFrame) -> pd.DataFrame:
    """The differences nothing known accounts for; the asset check fails when this is not empty."""
    return df.loc[~df["explained"].astype(bool)].reset_index(drop=True)


# --- shared lookups ----------------------------------------------------------------------------


class _Context:
    """Lookups several kinds share, computed once.

    Every id column is factorised once into integer codes over a vocabulary shared with the
    columns it is compared to; membership, joins and duplicate counts then run on int arrays.
    Hashing each string once instead of once per comparison is what keeps a million rows fast.
    """

    def __init__(self, inp: ReconcileInput) -> None:
        self.inp = inp
        pi, pp, xp = inp.platform_invoices, inp.platform_payments, inp.xero_payments
        xi = inp.xero_invoices
        self.invoices = pi
        accrec = xi["type"].eq("ACCREC").to_numpy(dtype=bool)
        self.xi = xi if accrec.all() else xi.loc[accrec]
        (self.xi_code, self.pi_xcode, self.xp_inv_code), self.n_inv = id_codes.codes(
            self.xi["xero_invoice_id"], pi["xero_invoice_id"], xp["invoice_id"]
        )
        self.synced_mask = pi["source"].eq("xero").to_numpy(dtype=bool) & (self.pi_xcode >= 0)
        self.synced_codes = self.pi_xcode[self.synced_mask]

        # payment -> the platform invoice it belongs to (first row per invoice_id)
        (pi_icode, pp_icode), n = id_codes.codes(pi["invoice_id"], pp["invoice_id"])
        pos = id_codes.first_position(pi_icode, n)[pp_icode]
        self.payment_invoice_source = id_codes.take(id_codes.labels(pi["source"]), pos)
        self.payment_currency = id_codes.take(id_codes.labels(pi["currency"]), pos)
        self.alt_mask = pp["source"].eq("alternative").to_numpy(dtype=bool)
        self.in_flight = pp["outbox_status"].isin(IN_FLIGHT_OUTBOX).to_numpy(dtype=bool)

        # Xero PaymentIDs: Xero's own, the ids stored on platform rows, and for Xero-side rows
        # the id behind "xero_" when none is stored.
        stored = pp["xero_payment_id"]
        need = ~self.alt_mask & stored.isna().to_numpy(dtype=bool)
        tail = pp["payment_id"].loc[need]
        tail = tail.astype(str).str.removeprefix("xero_")
        (self.xp_code, self.pp_xcode, tail_code), self.n_pay = id_codes.codes(
            xp["payment_id"], stored, tail
        )
        self.pp_side_code = np.where(self.alt_mask, -1, self.pp_xcode)
        self.pp_side_code[need] = tail_code
        # Alternative payment ids and the References Xero payments carry.
        (self.pp_code, self.xp_ref_code), self.n_ref = id_codes.codes(pp["payment_id"], xp["reference"])
        self.xp_live = xp["status"].eq("AUTHORISED").to_numpy(dtype=bool)


def _expected_status(outstanding: np.ndarray, total: np.ndarray) -> np.ndarray:
    """rules.platform_status, vectorised: the platform status a balance implies."""
    return np.select(
        [outstanding <= 0, outstanding < total], ["paid", "partially_paid"], default="unpaid"
    ).astype(object)


# --- invoices ----------------------------------------------------------------------------------


def _invoice_differences(ctx: _Context) -> list[pd.DataFrame]:
    xi = ctx.xi
    pi = ctx.invoices
    synced_rows = np.flatnonzero(ctx.synced_mask)
    pos = id_codes.first_position(ctx.xi_code, ctx.n_inv)[ctx.synced_codes]
    found = pos >= 0
    # Column-wise takes: only the columns compared, never whole frames.
    prow, xrow = synced_rows[found], pos[found]

    def pcol(name: str, dtype=None) -> np.ndarray:
        if dtype is object:  # low-cardinality text: shared objects, cheap to compare
            return id_codes.labels(pi[name])[prow]
        return pi[name].to_numpy(dtype=dtype)[prow]

    def xcol(name: str, dtype=None) -> np.ndarray:
        if dtype is object:
            return id_codes.labels(xi[name])[xrow]
        return xi[name].to_numpy(dtype=dtype)[xrow]

    p_ids, p_cur = pcol("invoice_id"), pcol("currency", object)
    p_out = pcol("outstanding_minor", np.int64)
    pending = pi["pending_payments_minor"].fillna(0).to_numpy(dtype=np.int64)[prow]
    p_status = pcol("status", object)
    x_status = xcol("status", object)
    x_due = xcol("amount_due_minor", np.int64)
    x_total = xcol("total_minor", np.int64)
    live = id_codes.is_any(x_status, SYNCED_XERO_STATUSES)
    gone = id_codes.is_any(x_status, GONE_XERO_STATUSES)
    # A pending Alternative payment holds the balance down until its write lands in Xero.
    explained_by_pending = (pending > 0) & (x_due - pending == p_out)
    # An Alternative edit kept by the three-way rule is never written to Xero: a known cause.
    edited = invoice_edits.alternative_edited(pi)[prow]

    expected = _expected_status(x_due, x_total)
    status_off = live & (p_status != expected)
    flag_off = gone & ~pcol("deleted_in_xero", bool)
    balance_off = live & (p_out != x_due)
    parts = []
    if status_off.any():
        m = status_off
        parts.append(_rows(
            "status_mismatch", "invoice", p_ids[m],
            platform_minor=p_out[m], xero_minor=x_due[m], currency=p_cur[m],
            explained=explained_by_pending[m] & (p_status[m] == _expected_status(
                x_due[m] - pending[m], x_total[m])),
            action="re-sync invoice",
            detail="Alternative " + p_status[m] + ", Xero " + x_status[m] + " (implies "
            + expected[m] + ")",
        ))
    if flag_off.any():
        m = flag_off
        parts.append(_rows(
            "status_mismatch", "invoice", p_ids[m],
            platform_minor=p_out[m], xero_minor=x_due[m], currency=p_cur[m],
            action="re-sync invoice", detail="Xero " + x_status[m] + ", not flagged in Alternative",
        ))
    if balance_off.any():
        m = balance_off
        parts.append(_rows(
            "balance_mismatch", "invoice", p_ids[m],
            platform_minor=p_out[m], xero_minor=x_due[m], currency=p_cur[m],
            explained=explained_by_pending[m] | edited[m],
            action=np.select([explained_by_pending[m], edited[m]],
                             ["wait for payment push", "none: edited in Alternative"],
                             "re-sync invoice").astype(object),
            detail=np.select([explained_by_pending[m], edited[m]],
                             ["pending Alternative payments explain it",
                              "amount edited in Alternative (never written to Xero)"],
                             "outstanding differs from Xero AmountDue").astype(object),
        ))
    lost = pi.iloc[synced_rows[~found]]
    if len(lost):
        parts.append(_rows(
            "status_mismatch", "invoice", lost["invoice_id"],
            platform_minor=lost["outstanding_minor"].to_numpy(), currency=lost["currency"].to_numpy(),
            action="re-sync invoice", detail="synced invoice not found in Xero",
        ))
    # Approved sales invoices in Xero that never reached Alternative.
    unsynced = xi.loc[xi["status"].isin(SYNCED_XERO_STATUSES).to_numpy(dtype=bool)
                      & ~id_codes.member(ctx.xi_code, ctx.synced_codes, ctx.n_inv)]
    if len(unsynced):
        parts.append(_rows(
            "status_mismatch", "xero_invoice", unsynced["xero_invoice_id"],
            xero_minor=unsynced["amount_due_minor"].to_numpy(),
            currency=unsynced["currency"].to_numpy(),
            action="re-sync invoice", detail="approved in Xero, missing in Alternative",
        ))
    return parts


# --- payments ----------------------------------------------------------------------------------


def _payment_differences(ctx: _Context) -> list[pd.DataFrame]:
    pp, xp = ctx.inp.platform_payments, ctx.inp.xero_payments
    live = ctx.xp_live
    parts = []
    on_xero_invoice = ctx.payment_invoice_source == "xero"
    alt = ctx.alt_mask
    status = id_codes.labels(pp["status"])
    id_column = pp["payment_id"]

    def ids(mask: np.ndarray) -> np.ndarray:  # only the rows listed become Python objects
        return id_column.loc[mask].to_numpy(dtype=object)

    amounts = pp["amount_minor"].to_numpy(dtype=np.int64)
    # An Alternative payment is in Xero when its stored PaymentID is live there or a live Xero
    # payment carries its id as Reference (the lookup the push run makes after a lost response).
    in_xero = (id_codes.member(ctx.pp_xcode, ctx.xp_code[live], ctx.n_pay)
               | id_codes.member(ctx.pp_code, ctx.xp_ref_code[live], ctx.n_ref))
    rejected = pp["outbox_status"].eq("rejected").to_numpy(dtype=bool)  # see rejected_write
    succeeded = status == "succeeded"
    # Stand-alone deposits are bank transactions, not Xero payments: known by the stored id.
    deposit_written = ctx.pp_xcode >= 0
    missing = alt & succeeded & ~rejected & np.where(on_xero_invoice, ~in_xero, ~deposit_written)
    missing &= pd.notna(ctx.payment_invoice_source)  # a payment on no known invoice: skip
    if missing.any():
        m = missing
        parts.append(_rows(
            "payment_missing_in_xero", "payment", ids(m),
            platform_minor=amounts[m], currency=ctx.payment_currency[m],
            explained=ctx.in_flight[m], action="push",
            detail=np.where(on_xero_invoice[m], "payment", "stand-alone deposit").astype(object)
            + np.where(ctx.in_flight[m], " write in flight", " not in Xero").astype(object),
        ))
    # Failed or refunded after it was written: the Xero payment must be deleted.
    undone = alt & id_codes.is_any(status, ("failed", "refunded")) & on_xero_invoice & in_xero
    if undone.any():
        m = undone
        parts.append(_rows(
            "status_mismatch", "payment", ids(m),
            platform_minor=amounts[m], currency=ctx.payment_currency[m],
            explained=ctx.in_flight[m], action="delete payment in Xero",
            detail=("Alternative " + status[m] + ", Xero AUTHORISED").astype(object),
        ))
    # Xero-side rows whose status disagrees with Xero (deleted there, still counted here).
    pos = id_codes.first_position(ctx.xp_code, ctx.n_pay)[ctx.pp_side_code]
    x_status = id_codes.take(id_codes.labels(xp["status"]), pos)
    expected = np.where(x_status == "DELETED", "reversed", "succeeded")
    drift = ~alt & (pos >= 0) & (status != expected)
    if drift.any():
        m = drift
        parts.append(_rows(
            "status_mismatch", "payment", ids(m), platform_minor=amounts[m],
            xero_minor=xp["amount_minor"].to_numpy(dtype=np.int64)[pos[m]],
            currency=ctx.payment_currency[m],
            action="re-sync payments",
            detail=("Alternative " + status[m] + ", Xero " + x_status[m]).astype(object),
        ))
    # Live Xero payments on synced invoices that Alternative knows under no id or reference.
    unknown = (
        live
        & id_codes.member(ctx.xp_inv_code, ctx.synced_codes, ctx.n_inv)
        & ~id_codes.member(ctx.xp_code, ctx.pp_xcode, ctx.n_pay)
        & ~id_codes.member(ctx.xp_code, ctx.pp_side_code, ctx.n_pay)
        & ~id_codes.member(ctx.xp_ref_code, ctx.pp_code[alt], ctx.n_ref)
    )
    if unknown.any():
        u = xp.loc[unknown]
        parts.append(_rows(
            "xero_payment_unknown", "xero_payment", u["payment_id"],
            xero_minor=u["amount_minor"].to_numpy(), currency=_xero_currency(ctx, unknown),
            action="re-sync payments",
            detail=("on Xero invoice " + u["invoice_id"].astype(str)).to_numpy(dtype=object),
        ))
    return parts


def _xero_currency(ctx: _Context, rows: np.ndarray) -> np.ndarray:
    """Currency of the Xero invoice each selected Xero payment is on."""
    pos = id_codes.first_position(ctx.xi_code, ctx.n_inv)[ctx.xp_inv_code[rows]]
    return id_codes.take(id_codes.labels(ctx.xi["currency"]), pos)


# --- flags, duplicates, rejected writes, conflicts ---------------------------------------------


def _deleted_in_xero(ctx: _Context) -> list[pd.DataFrame]:
    pi, cu = ctx.invoices, ctx.inp.customers
    inv = pi.loc[pi["deleted_in_xero"].astype(bool) & ~pi["archived"].astype(bool)]
    cus = cu.loc[cu["deleted_in_xero"].astype(bool) & ~cu["archived"].astype(bool)]
    return [
        _rows("deleted_in_xero", "invoice", inv["invoice_id"],
              platform_minor=inv["outstanding_minor"].to_numpy(), currency=inv["currency"].to_numpy(),
              action="archive manually", detail="deleted or voided in Xero, active in Alternative"),
        _rows("deleted_in_xero", "customer", cus["customer_id"], action="archive manually",
              detail="deleted or archived in Xero, active in Alternative"),
    ]


def _duplicates(ctx: _Context) -> list[pd.DataFrame]:
    xp = ctx.inp.xero_payments
    # The same Alternative payment written twice: two live Xero payments with its reference.
    ours = ctx.xp_live & id_codes.member(ctx.xp_ref_code, ctx.pp_code[ctx.alt_mask], ctx.n_ref)
    twice = ours & (id_codes.counts(np.where(ours, ctx.xp_ref_code, -1), ctx.n_ref)[ctx.xp_ref_code] > 1)
    by_ref = xp.loc[twice].groupby("reference", sort=True)["amount_minor"].agg(["sum", "size"])
    parts = [_rows(
        "duplicate", "payment", by_ref.index.to_series(),
        xero_minor=by_ref["sum"].to_numpy(), action="delete the extra Xero payment",
        detail=(by_ref["size"].astype(str) + " live Xero payments with this reference").to_numpy(
            dtype=object),
    )]
    (contact_codes,), n_contacts = id_codes.codes(ctx.inp.customers["xero_contact_id"])
    for subject_type, column, codes, n in (
        ("xero_payment", xp["payment_id"], ctx.xp_code, ctx.n_pay),
        ("xero_payment", ctx.inp.platform_payments["xero_payment_id"], ctx.pp_xcode, ctx.n_pay),
        ("xero_invoice", ctx.invoices["xero_invoice_id"], ctx.pi_xcode, ctx.n_inv),
        ("xero_contact", ctx.inp.customers["xero_contact_id"], contact_codes, n_contacts),
    ):
        counts = id_codes.counts(codes, n)
        repeated = np.flatnonzero(counts > 1)
        first = id_codes.first_position(codes, n)[repeated]
        parts.append(_rows(
            "duplicate", subject_type, column.iloc[first].to_numpy(dtype=object),
            action="investigate duplicate id",
            detail=(counts[repeated].astype(str).astype(object)
                    + f" rows with this id in {column.name}"),
        ))
    return parts


def _rejected_writes(ctx: _Context) -> pd.DataFrame:
    rj = ctx.inp.rejected
    return _rows(
        "rejected_write", "outbox", rj["outbox_id"], action="fix and re-queue",
        detail=(rj["kind"].astype(str) + " " + rj["subject_id"].astype(str) + ": "
                + rj["error"].fillna("").astype(str)).to_numpy(dtype=object),
    )


def _conflicts(ctx: _Context) -> pd.DataFrame:
    pi = ctx.invoices
    c = pi.loc[pi["conflict"].notna() & pi["conflict"].astype(str).ne("")]
    return _rows(
        "conflict", "invoice", c["invoice_id"], platform_minor=c["outstanding_minor"].to_numpy(),
        currency=c["currency"].to_numpy(), action="review: pending payment kept",
        detail=c["conflict"].astype(str).to_numpy(dtype=object),
    )


def _edit_conflicts(ctx: _Context) -> pd.DataFrame:
    c = invoice_edits.conflicts(ctx.invoices)
    return _rows(
        invoice_edits.KIND, "invoice", c["invoice_id"], platform_minor=c["outstanding_minor"].to_numpy(),
        currency=c["currency"].to_numpy(), explained=True, action="review",
        detail=c["edit_conflict"].astype(str).to_numpy(dtype=object) if len(c) else "",
    )
