"""sync.id_codes on Arrow-backed text (what the platform store's loader gives): codes are made
from the Arrow buffers and must partition the values exactly as pandas does."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.mark.parametrize(
    "values",
    [
        ["XI-1", None, "XI-2", "XI-1", "", None, ""],
        ["abcdefgh", "abcdefghi", "abcdefgh", "abcdefghijklmnopq", "abcdefghijklmnop"],  # word edges
        ["café", "cafe", "café", "日本", "日本"],  # UTF-8 bytes, not characters
        ["x" * 65, "x" * 65, "x" * 64, None],  # longer than 64 bytes: Arrow's own encoding
    ],
)
def test_arrow_backed_codes_match_pandas_factorize(values):
    """Text the loader gives (Arrow-backed `str`) is coded from the Arrow buffers; the codes
    partition the values exactly as pandas does, across columns of both offset widths."""
    import numpy as np
    import pyarrow as pa

    from xero_sync.sync import id_codes

    narrow = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(values[:3], pa.string())))
    wide = pd.Series(values[3:], dtype="str")
    (left, right), n = id_codes.codes(narrow, wide)
    got = np.concatenate([left, right])
    expected, uniques = pd.factorize(pd.Series(values, dtype=object))
    assert n == len(uniques) and (got == -1).tolist() == (expected == -1).tolist()
    pairs = set(zip(got.tolist(), expected.tolist()))
    assert len(pairs) == len({g for g, _ in pairs}) == len({e for _, e in pairs})  # a bijection


def test_arrow_backed_codes_fall_back_exactly_on_hash_collisions(monkeypatch):
    import numpy as np

    from xero_sync.sync import id_codes

    monkeypatch.setattr(id_codes, "_MIX", np.uint64(0))  # only the length is hashed
    (left, right), n = id_codes.codes(pd.Series(["p1", "p2", None], dtype="str"),
                                      pd.Series(["p2", "p3"], dtype="str"))
    assert left.tolist() == [0, 1, -1] and right.tolist() == [1, 2] and n == 3
