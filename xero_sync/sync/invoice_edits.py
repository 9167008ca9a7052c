"""The reconciliation diff's view of unpaid-invoice edits (SPEC section 2, three-way rule).

Two optional platform-invoice columns (EDIT_COLUMNS; frames without them are read as "no edits")
feed two things:

- an Alternative edit kept by the rule (amount differs from the last Xero amount landed) explains
  the balance difference it causes: Alternative edits are never written to Xero by design;
- a conflict the rule resolved for Xero (`edit_conflict` text) is listed as kind
  `unpaid_edit_conflict`, explained (nothing is wrong in the books), action "review": the partner
  checks Xero's value and, to keep their own, edits the invoice again in Alternative (which also
  clears the row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EDIT_COLUMNS = ("xero_total_minor", "edit_conflict")
KIND = "unpaid_edit_conflict"


def alternative_edited(pi: pd.DataFrame) -> np.ndarray:
    """Per platform invoice row: a Xero invoice whose amount is an Alternative edit kept."""
    if "xero_total_minor" not in pi.columns:
        return np.zeros(len(pi), dtype=bool)
    baseline = pd.to_numeric(pi["xero_total_minor"], errors="coerce")
    return (pi["source"].eq("xero") & baseline.notna()
            & baseline.ne(pi["total_minor"])).to_numpy(dtype=bool)


def conflicts(pi: pd.DataFrame) -> pd.DataFrame:
    """The rows of `pi` with an edit conflict listed (not archived)."""
    if "edit_conflict" not in pi.columns:
        return pi.iloc[0:0]
    text = pi["edit_conflict"]
    return pi.loc[text.notna() & text.astype(str).ne("") & ~pi["archived"].astype(bool)]
