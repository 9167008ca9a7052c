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

DIFF_COLUMNS = (
    "kind", "subject_type", "subject_id", "platform_minor", "xero_minor", "currency",
    "explained", "action", "detail",
)
KINDS = (
    "status_mismatch", "balance_mismatch", "payment_missing_in_xero", "xero_payment_unknown",
    "payout_not_recorded", "payout_amount_mismatch", "payments_account_balance_mismatch",
    "deleted_in_xero", "duplicate", "rejected_write", "conflict",
)

# Outbox states in which the write is still on its way: a difference they cause is explained.
IN_FLIGHT_OUTBOX = ("pending", "waiting_accounts", "sending", "unknown")
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
    awaiting_payout_minor: int | None = None  # payments received by Alternative, not paid out
    currency: str | None = None  # the payments account's currency

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
        *_payout_differences(ctx),
        _account_balance(ctx),
        *_deleted_in_xero(ctx),
        *_duplicates(ctx),
        _rejected_writes(ctx),
        _conflicts(ctx),
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
    """Lookups several kinds share, computed once."""

    def __init__(self, inp: ReconcileInput) -> None:
        self.inp = inp
        pi = inp.platform_invoices
        self.invoices = pi
        self.synced = pi.loc[pi["source"].eq("xero") & pi["xero_invoice_id"].notna()]
        # invoice_id -> (source, currency) of the platform invoice a payment belongs to
        invoice_index = pd.Index(pi["invoice_id"])
        if not invoice_index.is_unique:
            invoice_index = pd.Index(pi["invoice_id"].drop_duplicates())
            pi = pi.drop_duplicates("invoice_id")
        pp = inp.platform_payments
        pos = invoice_index.get_indexer(pp["invoice_id"])
        self.payment_invoice_source = _take(pi["source"], pos)
        self.payment_currency = _take(pi["currency"], pos)
        self.alt_mask = pp["source"].eq("alternative").to_numpy()
        self.in_flight = pp["outbox_status"].isin(IN_FLIGHT_OUTBOX).to_numpy()
        xp = inp.xero_payments
        self.xero_live = xp.loc[xp["status"].eq("AUTHORISED")]


def _take(column: pd.Series, pos: np.ndarray) -> np.ndarray:
    """column[pos] as an object array, NA where pos is -1 (not found)."""
    values = column.to_numpy(dtype=object)
    if len(values) == 0:
        return np.full(len(pos), None, dtype=object)
    out = values[pos]
    out[pos < 0] = None
    return out


def _rows(
    kind: str,
    subject_type: str,
    subject_id,
    *,
    platform_minor=None,
    xero_minor=None,
    currency=None,
    explained=False,
    action,
    detail="",
) -> pd.DataFrame:
    """Diff rows for one kind; scalars broadcast over `subject_id`."""
    ids = pd.Series(subject_id).astype(str).reset_index(drop=True)
    n = len(ids)

    def col(value, dtype):
        if isinstance(value, pd.Series | np.ndarray):
            value = np.asarray(value)
            if dtype == "Int64" and value.dtype.kind not in "iu":
                value = value.astype(object)  # may hold None/NA: let pandas mask them
            return pd.array(value, dtype=dtype)
        return pd.array([value] * n, dtype=dtype)

    return pd.DataFrame(
        {
            "kind": kind,
            "subject_type": subject_type,
            "subject_id": ids,
            "platform_minor": col(platform_minor, "Int64"),
            "xero_minor": col(xero_minor, "Int64"),
            "currency": col(currency, object),
            "explained": col(explained, bool),
            "action": col(action, object),
            "detail": col(detail, object),
        },
        index=pd.RangeIndex(n),
    )


def _empty_diff() -> pd.DataFrame:
    return _rows("", "", pd.Series([], dtype=object), action="")


def _expected_status(outstanding: np.ndarray, total: np.ndarray) -> np.ndarray:
    """rules.platform_status, vectorised: the platform status a balance implies."""
    return np.select(
        [outstanding <= 0, outstanding < total], ["paid", "partially_paid"], default="unpaid"
    ).astype(object)


# --- invoices ----------------------------------------------------------------------------------


def _invoice_differences(ctx: _Context) -> list[pd.DataFrame]:
    xi = ctx.inp.xero_invoices
    xi = xi.loc[xi["type"].eq("ACCREC")].drop_duplicates("xero_invoice_id")
    synced = ctx.synced
    pos = pd.Index(xi["xero_invoice_id"]).get_indexer(synced["xero_invoice_id"])
    found = pos >= 0
    p = synced.loc[found]
    x = xi.iloc[pos[found]]
    p_out = p["outstanding_minor"].to_numpy(dtype=np.int64)
    p_total = p["total_minor"].to_numpy(dtype=np.int64)
    pending = p["pending_payments_minor"].fillna(0).to_numpy(dtype=np.int64)
    p_status = p["status"].to_numpy(dtype=object)
    x_status = x["status"].to_numpy(dtype=object)
    x_due = x["amount_due_minor"].to_numpy(dtype=np.int64)
    x_total = x["total_minor"].to_numpy(dtype=np.int64)
    live = np.isin(x_status, SYNCED_XERO_STATUSES)
    gone = np.isin(x_status, GONE_XERO_STATUSES)
    # A pending Alternative payment holds the balance down until its write lands in Xero.
    explained_by_pending = (pending > 0) & (x_due - pending == p_out)

    expected = _expected_status(x_due, x_total)
    status_off = live & (p_status != expected)
    flag_off = gone & ~p["deleted_in_xero"].to_numpy(dtype=bool)
    balance_off = live & (p_out != x_due)
    parts = []
    if status_off.any():
        m = status_off
        parts.append(_rows(
            "status_mismatch", "invoice", p["invoice_id"].to_numpy()[m],
            platform_minor=p_out[m], xero_minor=x_due[m], currency=p["currency"].to_numpy()[m],
            explained=explained_by_pending[m] & (p_status[m] == _expected_status(
                x_due[m] - pending[m], x_total[m])),
            action="re-sync invoice",
            detail="Alternative " + p_status[m] + ", Xero " + x_status[m] + " (implies "
            + expected[m] + ")",
        ))
    if flag_off.any():
        m = flag_off
        parts.append(_rows(
            "status_mismatch", "invoice", p["invoice_id"].to_numpy()[m],
            platform_minor=p_out[m], xero_minor=x_due[m], currency=p["currency"].to_numpy()[m],
            action="re-sync invoice", detail="Xero " + x_status[m] + ", not flagged in Alternative",
        ))
    if balance_off.any():
        m = balance_off
        parts.append(_rows(
            "balance_mismatch", "invoice", p["invoice_id"].to_numpy()[m],
            platform_minor=p_out[m], xero_minor=x_due[m], currency=p["currency"].to_numpy()[m],
            explained=explained_by_pending[m],
            action=np.where(explained_by_pending[m], "wait for payment push", "re-sync invoice"),
            detail=np.where(explained_by_pending[m], "pending Alternative payments explain it",
                            "outstanding differs from Xero AmountDue").astype(object),
        ))
    lost = synced.loc[~found]
    if len(lost):
        parts.append(_rows(
            "status_mismatch", "invoice", lost["invoice_id"],
            platform_minor=lost["outstanding_minor"].to_numpy(), currency=lost["currency"].to_numpy(),
            action="re-sync invoice", detail="synced invoice not found in Xero",
        ))
    # Approved sales invoices in Xero that never reached Alternative.
    unsynced = xi.loc[xi["status"].isin(SYNCED_XERO_STATUSES)
                      & ~xi["xero_invoice_id"].isin(synced["xero_invoice_id"])]
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
    pp = ctx.inp.platform_payments
    live = ctx.xero_live
    parts = []
    on_xero_invoice = ctx.payment_invoice_source == "xero"
    alt = ctx.alt_mask
    status = pp["status"].to_numpy(dtype=object)
    # An Alternative payment is in Xero when its stored PaymentID is live there or a live Xero
    # payment carries its id as Reference (the lookup the push run makes after a lost response).
    in_xero = (pp["xero_payment_id"].isin(live["payment_id"])
               | pp["payment_id"].isin(live["reference"])).to_numpy()
    rejected = pp["outbox_status"].eq("rejected").to_numpy()  # listed as rejected_write instead
    succeeded = status == "succeeded"
    # Stand-alone deposits are bank transactions, not Xero payments: known by the stored id.
    deposit_written = pp["xero_payment_id"].notna().to_numpy()
    missing = alt & succeeded & ~rejected & np.where(on_xero_invoice, ~in_xero, ~deposit_written)
    missing &= pd.notna(ctx.payment_invoice_source)  # a payment on no known invoice: skip
    if missing.any():
        m = missing
        parts.append(_rows(
            "payment_missing_in_xero", "payment", pp["payment_id"].to_numpy()[m],
            platform_minor=pp["amount_minor"].to_numpy()[m], currency=ctx.payment_currency[m],
            explained=ctx.in_flight[m], action="push",
            detail=np.where(on_xero_invoice[m], "payment", "stand-alone deposit").astype(object)
            + np.where(ctx.in_flight[m], " write in flight", " not in Xero").astype(object),
        ))
    # Failed or refunded after it was written: the Xero payment must be deleted.
    undone = alt & np.isin(status, ("failed", "refunded")) & on_xero_invoice & in_xero
    if undone.any():
        m = undone
        parts.append(_rows(
            "status_mismatch", "payment", pp["payment_id"].to_numpy()[m],
            platform_minor=pp["amount_minor"].to_numpy()[m], currency=ctx.payment_currency[m],
            explained=ctx.in_flight[m], action="delete payment in Xero",
            detail=("Alternative " + status[m] + ", Xero AUTHORISED").astype(object),
        ))
    # Xero-side rows whose status disagrees with Xero (deleted there, still counted here).
    xero_rows = ~alt
    xp = ctx.inp.xero_payments.drop_duplicates("payment_id")
    pos = pd.Index(xp["payment_id"]).get_indexer(_xero_side_ids(pp))
    x_status = _take(xp["status"], pos)
    expected = np.where(x_status == "DELETED", "reversed", "succeeded")
    drift = xero_rows & (pos >= 0) & (status != expected)
    if drift.any():
        m = drift
        parts.append(_rows(
            "status_mismatch", "payment", pp["payment_id"].to_numpy()[m],
            platform_minor=pp["amount_minor"].to_numpy()[m],
            xero_minor=_take(xp["amount_minor"], pos)[m], currency=ctx.payment_currency[m],
            action="re-sync payments",
            detail=("Alternative " + status[m] + ", Xero " + x_status[m]).astype(object),
        ))
    # Live Xero payments on synced invoices that Alternative knows under no id or reference.
    known = (
        live["payment_id"].isin(pp["xero_payment_id"])
        | live["payment_id"].isin(_xero_side_ids(pp.loc[xero_rows]))
        | live["reference"].isin(pp["payment_id"].loc[alt])
    )
    unknown = live.loc[~known & live["invoice_id"].isin(ctx.synced["xero_invoice_id"])]
    if len(unknown):
        parts.append(_rows(
            "xero_payment_unknown", "xero_payment", unknown["payment_id"],
            xero_minor=unknown["amount_minor"].to_numpy(), action="re-sync payments",
            detail=("on Xero invoice " + unknown["invoice_id"].astype(str)).to_numpy(dtype=object),
        ))
    return parts


def _xero_side_ids(pp: pd.DataFrame) -> pd.Series:
    """Xero PaymentIDs of Xero-side platform rows: the stored id, else the "xero_" id's tail."""
    from_id = pp["payment_id"].astype(str).str.removeprefix("xero_")
    return pp["xero_payment_id"].where(pp["xero_payment_id"].notna(), from_id)


# --- payouts and the payments account ----------------------------------------------------------


def _payout_differences(ctx: _Context) -> list[pd.DataFrame]:
    po = ctx.inp.payouts
    xero_amount = po["xero_amount_minor"].astype("Int64")
    net = po["net_minor"].astype("Int64")
    not_recorded = xero_amount.isna().to_numpy(dtype=bool)
    other_amount = (~not_recorded) & (xero_amount != net).fillna(False).to_numpy(dtype=bool)
    if not (not_recorded.any() or other_amount.any()):
        return []
    members = _standalone_deposits(ctx, po["payout_id"].loc[not_recorded | other_amount])
    listed = po["payout_id"].map(members).fillna("none").astype(object).to_numpy()
    detail = "stand-alone deposits in the bank line: " + listed
    in_flight = po["outbox_status"].isin(IN_FLIGHT_OUTBOX).to_numpy()
    parts = []
    for kind, m, action in (
        ("payout_not_recorded", not_recorded, "push"),
        ("payout_amount_mismatch", other_amount, "investigate payout in Xero"),
    ):
        if m.any():
            parts.append(_rows(
                kind, "payout", po["payout_id"].to_numpy()[m],
                platform_minor=net.to_numpy(dtype=object)[m],
                xero_minor=xero_amount.to_numpy(dtype=object)[m],
                explained=in_flight[m] & (kind == "payout_not_recorded"),
                action=action, detail=detail[m],
            ))
    return parts


def _standalone_deposits(ctx: _Context, payout_ids: pd.Series) -> pd.Series:
    """payout_id -> space-separated stand-alone deposit payment ids of that payout."""
    pp = ctx.inp.platform_payments
    m = ctx.alt_mask & (ctx.payment_invoice_source == "alternative")
    m &= pp["payout_id"].isin(payout_ids).to_numpy()
    sub = pp.loc[m, ["payout_id", "payment_id"]].sort_values("payment_id")
    return sub.groupby("payout_id")["payment_id"].agg(" ".join)


def _account_balance(ctx: _Context) -> pd.DataFrame:
    inp = ctx.inp
    if inp.payments_account_balance_minor is None or inp.awaiting_payout_minor is None:
        return _empty_diff()
    gap = inp.awaiting_payout_minor - inp.payments_account_balance_minor
    if gap == 0:
        return _empty_diff()
    pp = inp.platform_payments
    # Received, not paid out, and its write still on its way into the payments account.
    on_the_way = (ctx.alt_mask & ctx.in_flight & (pp["status"].eq("succeeded")
                  & pp["payout_id"].isna()).to_numpy())
    pending = int(pp["amount_minor"].to_numpy(dtype=np.int64)[on_the_way].sum())
    return _rows(
        "payments_account_balance_mismatch", "account", ["payments_account"],
        platform_minor=np.array([inp.awaiting_payout_minor]),
        xero_minor=np.array([inp.payments_account_balance_minor]),
        currency=inp.currency, explained=pending > 0 and gap == pending,
        action="investigate payments account",
        detail=f"difference {gap}, writes in flight {pending}",
    )


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
    pp, live = ctx.inp.platform_payments, ctx.xero_live
    # The same Alternative payment written twice: two live Xero payments with its reference.
    ours = live.loc[live["reference"].isin(pp["payment_id"].loc[ctx.alt_mask])]
    twice = ours.loc[ours["reference"].duplicated(keep=False)]
    by_ref = twice.groupby("reference", sort=True)["amount_minor"].agg(["sum", "size"])
    parts = [_rows(
        "duplicate", "payment", by_ref.index.to_series(),
        xero_minor=by_ref["sum"].to_numpy(), action="delete the extra Xero payment",
        detail=(by_ref["size"].astype(str) + " live Xero payments with this reference").to_numpy(
            dtype=object),
    )]
    for subject_type, column in (
        ("xero_payment", ctx.inp.xero_payments["payment_id"]),
        ("xero_payment", pp["xero_payment_id"].dropna()),
        ("xero_invoice", ctx.invoices["xero_invoice_id"].dropna()),
        ("xero_contact", ctx.inp.customers["xero_contact_id"].dropna()),
    ):
        counts = column.loc[column.duplicated(keep=False)].value_counts()
        parts.append(_rows(
            "duplicate", subject_type, counts.index.to_series(), action="investigate duplicate id",
            detail=(counts.astype(str) + " rows with this id in " + str(column.name)).to_numpy(
                dtype=object),
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
