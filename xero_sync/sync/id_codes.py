"""Integer codes for id columns, and the array lookups the reconciliation diff is built from.

Joining a million string ids is what a diff spends its time on; these helpers turn ids into
dense integer codes once (exactly: equal ids, equal codes) and then answer membership, first
position and counts with numpy arrays instead of hash joins.

Text columns are normally Arrow-backed (pandas' `str` dtype with pyarrow installed, and what the
platform store's loader gives): their bytes are read straight from the Arrow buffers, never as
one Python object per value. Object columns (and anything else) take the object path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def codes(*columns) -> tuple[list[np.ndarray], int]:
    """Integer codes for several columns over one vocabulary (equal values, equal codes; NA -1)."""
    lengths = np.cumsum([len(c) for c in columns])[:-1]
    if all(pd.api.types.is_integer_dtype(getattr(c, "dtype", None)) for c in columns):
        # Integer keys (platform invoice ids) hash fast as they are; no NA possible.
        keys = np.concatenate([np.asarray(c, dtype=np.int64) for c in columns])
        ints, uniques = pd.factorize(keys)
        return np.split(ints.astype(np.int64, copy=False), lengths), len(uniques)
    arrow = [a for a in (_arrow_text(c) for c in columns) if a is not None]
    if len(arrow) == len(columns):
        # One offset width for all (casting copies, so only when the columns differ).
        kind = pa.string() if all(a.type == pa.string() for a in arrow) else pa.large_string()
        joined = pa.chunked_array([a.cast(kind) for a in arrow if len(a)] or [pa.array([], kind)],
                                  type=kind).combine_chunks()
        codes, n = factorize_arrow(joined)
        return np.split(codes, lengths), n
    arrays = [np.asarray(c, dtype=object) for c in columns]
    values = np.concatenate(arrays) if arrays else np.array([], dtype=object)
    codes, n = factorize(values)
    return np.split(codes, lengths), n


def _arrow_text(column) -> pa.Array | None:
    """The column as an Arrow large_string array without a Python object per value, or None
    when that is not how it is held (object and python-storage columns take the object path)."""
    dtype = getattr(column, "dtype", None)
    arrow_str = isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
    arrow_str |= isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype)
                                                       or pa.types.is_large_string(dtype.pyarrow_dtype))
    if not arrow_str:
        return None
    values = pa.array(getattr(column, "array", column))
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values if values.type in (pa.string(), pa.large_string()) else None


# Masks keeping the first k bytes of a little-endian 8-byte word, k = 0..8.
_KEEP = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)


def factorize_arrow(values: pa.StringArray | pa.LargeStringArray) -> tuple[np.ndarray, int]:
    """factorize for an Arrow string array (null -> -1), from its buffers.

    Each value's bytes are gathered 8 at a time from the data buffer into uint64 words (bytes
    past its end masked off), the words and the length mixed into one uint64 per row, which is
    factorised as integers. Exactness is then checked: every row's length and words must equal
    those of the first row of its code; on any collision (or values longer than 64 bytes) Arrow's
    own dictionary encoding decides.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    _, offsets_buf, data_buf = values.buffers()
    width_type = np.int64 if values.type == pa.large_string() else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=width_type)[values.offset: values.offset + n + 1]
    offsets = offsets.astype(np.int64, copy=False)
    starts, lengths = offsets[:-1], np.diff(offsets)
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    width = int(lengths[valid].max()) if valid.any() else 0
    if width > _FAST_WIDTH:
        return _dictionary_codes(values)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    data = np.concatenate([data, np.zeros(8, dtype=np.uint8)])  # 8-byte reads past the end stay in
    windows = np.lib.stride_tricks.sliding_window_view(data, 8)
    words, mixed = [], (lengths.astype(np.uint64) + np.uint64(1)) * _MIX  # "" hashes to non-0
    for k in range(0, width, 8):
        at = np.minimum(starts + k, len(data) - 8)
        word = np.ascontiguousarray(windows[at]).view("<u8").ravel()
        word &= _KEEP[np.clip(lengths - k, 0, 8)]
        words.append(word)
        _mix(mixed, word)
    codes, uniques = pd.factorize(np.where(valid, mixed, np.uint64(0)))
    codes = codes.astype(np.int64, copy=False)
    codes[~valid] = -1
    rows = np.flatnonzero(valid)
    lead = first_position(codes, len(uniques))[codes[rows]]
    same = lengths[rows] == lengths[lead]
    for word in words:
        same &= word[rows] == word[lead]
    if not same.all():
        return _dictionary_codes(values)  # a hash collision: let Arrow decide exactly
    # Renumber densely: the code of the null slot (hash 0) may be used by nulls only.
    used = np.zeros(len(uniques), dtype=bool)
    used[codes[rows]] = True
    dense = np.cumsum(used) - 1
    out = np.full(n, -1, dtype=np.int64)
    out[rows] = dense[codes[rows]]
    return out, int(used.sum())


def _dictionary_codes(values: pa.Array) -> tuple[np.ndarray, int]:
    encoded = values.dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, len(encoded.dictionary)


def labels(column) -> np.ndarray:
    """A low-cardinality text column (status, source, currency) as an object array in which
    equal values are one object, NA as None: built from the distinct values (Arrow's dictionary
    encoding for Arrow-backed columns), so comparing it to a constant touches a handful of
    objects instead of a million."""
    codes, uniques = pd.factorize(column)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = np.asarray(uniques, dtype=object)
    table[-1] = None
    return table[codes]


# Ids up to this many bytes take the fixed-width path; longer ones would cost too much memory.
_FAST_WIDTH = 64
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _mix(mixed: np.ndarray, word: np.ndarray) -> None:
    """Fold one 8-byte word per row into the rows' running hashes, in place."""
    mixed ^= word
    mixed *= _MIX
    mixed ^= mixed >> np.uint64(29)


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
        _mix(mixed, words[:, j])
    codes, uniques = pd.factorize(mixed)
    if not (packed == packed[first_position(codes, len(uniques))[codes]]).all():
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


def take(column: pd.Series | np.ndarray, pos: np.ndarray) -> np.ndarray:
    """column[pos] as an object array, None where pos is -1 (not found); a Series is taken
    first and converted after, so only the rows asked for become Python objects."""
    if isinstance(column, pd.Series):
        if len(column) == 0:
            return np.full(len(pos), None, dtype=object)
        out = np.array(column.iloc[np.where(pos < 0, 0, pos)].to_numpy(dtype=object), dtype=object)
        out[pos < 0] = None
        return out
    values = np.asarray(column, dtype=object)
    if len(values) == 0:
        return np.full(len(pos), None, dtype=object)
    out = values[pos]
    out[pos < 0] = None
    return out
