"""Diff rows: the output columns of the reconciliation diff and how a kind's rows are built.

Shared by sync.reconcile (records) and sync.reconcile_money (balances and payouts). Pure.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import pandas as pd

DIFF_COLUMNS = (
    "kind", "subject_type", "subject_id", "platform_minor", "xero_minor", "currency",
    "explained", "action", "detail",
)
# Outbox states in which the write is still on its way: a difference they cause is explained.
# Outbox states (store.states.OutboxStatus; sync/ imports no store, tests/store/test_states.py
# checks these are states) of a write not yet settled in Xero.
IN_FLIGHT_OUTBOX = ("pending", "waiting_accounts", "sending", "unknown", "held")

_Values: TypeAlias = pd.Series | np.ndarray | str | bool | None  # a column, or a scalar to broadcast


def rows(
    kind: str,
    subject_type: str,
    subject_id: pd.Series | np.ndarray | list[str],
    *,
    platform_minor: _Values = None,
    xero_minor: _Values = None,
    currency: _Values = None,
    explained: _Values = False,
    action: _Values,
    detail: _Values = "",
) -> pd.DataFrame:
    """Diff rows for one kind; scalars broadcast over `subject_id`."""
    ids = pd.Series(subject_id).astype(str).reset_index(drop=True)
    n = len(ids)

    def col(value: _Values, dtype: object) -> pd.api.extensions.ExtensionArray:
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


def empty_diff() -> pd.DataFrame:
    return rows("", "", pd.Series([], dtype=object), action="")
