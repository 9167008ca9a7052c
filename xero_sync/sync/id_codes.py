"""Integer codes for id columns, and the array lookups the reconciliation diff is built from.

Joining a million string ids is what a diff spends its time on; these helpers turn ids into
dense integer codes once (exactly: equal ids, equal codes) and then answer membership, first
position and counts with numpy arrays instead of hash joins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def codes(*columns) -> tuple[list[np.ndarray], int]:
    """Integer codes for several columns over one vocabulary (equal values, equal codes; NA -1)."""
    lengths = np.cumsum([len(c) for c in columns])[:-1]
    if all(pd.api.types.is_integer_dtype(getattr(c, "dtype", None)) for c in columns):
        # Integer keys (platform invoice ids) hash fast as they are; no NA possible.
        keys = np.concatenate([np.asarray(c, dtype=np.int64) for c in columns])
        ints, uniques = pd.factorize(keys)
        return np.split(ints.astype(np.int64, copy=False), lengths), len(uniques)
    arrays = [np.asarray(c, dtype=object) for c in columns]
    values = np.concatenate(arrays) if arrays else np.array([], dtype=object)
    codes, n = factorize(values)
    return np.split(codes, lengths), n


# Ids up to this many bytes take the fixed-width path; longer ones would cost too much memory.
_FAST_WIDTH = 64
_MIX = np.uint64(0x9E3779B97F4A7C15)


def factorize(values: np.ndarray) -> tuple[np.ndarray, int]:
    """pd.factorize for an object array (NA -> -1), faster for short ASCII ids.

    Hashing Python strings one by one is the cost of the whole diff, so ids are packed into a
    fixed-width byte matrix, mixed into one uint64 per row with numpy, and factorised as
    integers. The result is then checked exactly: every row must equal the first row of its
    code, byte for byte; on any collision (or non-ASCII text, long text, other types)
    pd.factorize runs instead. Trailing NUL characters are not significant in numpy bytes; no
    id has them.
    """
    fast = factorize_ids(values) if len(values) else None
    if fast is not None:
        return fast
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64, copy=False), len(uniques)


def factorize_ids(values: np.ndarray) -> tuple[np.ndarray, int] | None:
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return None
    try:
        packed = values.astype("S")  # NA become b"None" / b"nan": found and masked below
    except UnicodeEncodeError:
        return None
    size = packed.dtype.itemsize
    if size > _FAST_WIDTH:
        return None
    maybe_na = np.flatnonzero((packed == b"None") | (packed == b"nan"))
    na = np.zeros(len(values), dtype=bool)
    na[maybe_na] = pd.isna(values[maybe_na])
    if na.any():
        keep = ~na
        packed = packed[keep]
    width = -(-size // 8) * 8
    matrix = np.zeros((len(packed), width), dtype=np.uint8)
    matrix[:, :size] = packed.view(np.uint8).reshape(len(packed), size)
    words = matrix.view(np.uint64)
    mixed = np.zeros(len(packed), dtype=np.uint64)
    for j in range(words.shape[1]):
        mixed ^= words[:, j]
        mixed *= _MIX
        mixed ^= mixed >> np.uint64(29)
    codes, uniques = pd.factorize(mixed)
    first = np.empty(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    if not (packed == packed[first[codes]]).all():
        return None  # a hash collision: let pd.factorize decide exactly
    if not na.any():
        return codes.astype(np.int64, copy=False), len(uniques)
    out = np.full(len(values), -1, dtype=np.int64)
    out[keep] = codes
    return out, len(uniques)


def is_any(values: np.ndarray, choices: tuple[str, ...]) -> np.ndarray:
    """values in choices for a short tuple (np.isin would sort a million strings)."""
    out = np.zeros(len(values), dtype=bool)
    for choice in choices:
        out |= values == choice
    return out


def member(codes: np.ndarray, of: np.ndarray, n: int) -> np.ndarray:
    """codes.isin(of) for factorised codes; NA (-1) is never a member."""
    table = np.zeros(n + 1, dtype=bool)  # slot n stays False and catches code -1
    table[of[of >= 0]] = True
    return table[codes]


def first_position(codes: np.ndarray, n: int) -> np.ndarray:
    """code -> position of its first row (-1 if absent), indexable by -1 (gives -1)."""
    table = np.full(n + 1, -1, dtype=np.int64)
    valid = np.flatnonzero(codes >= 0)[::-1]  # reversed so the first row is written last
    table[codes[valid]] = valid
    return table


def counts(codes: np.ndarray, n: int) -> np.ndarray:
    """Rows per code (length n)."""
    return np.bincount(codes[codes >= 0], minlength=n)


def take(column: pd.Series, pos: np.ndarray) -> np.ndarray:
    """column[pos] as an object array, NA where pos is -1 (not found)."""
    values = column.to_numpy(dtype=object)
    if len(values) == 0:
        return np.full(len(pos), None, dtype=object)
    out = values[pos]
    out[pos < 0] = None
    return out
