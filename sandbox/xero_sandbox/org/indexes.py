"""The sorted indexes that let list reads over 100k records answer from a slice, not a scan."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any


class SortedKeys:
    """A sorted list of (key, id) tuples with bisect insert/remove/range."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[Any, str]] = []

    def add(self, key: Any, ident: str) -> None:
        bisect.insort(self.items, (key, ident))

    def remove(self, key: Any, ident: str) -> None:
        i = bisect.bisect_left(self.items, (key, ident))
        if i < len(self.items) and self.items[i] == (key, ident):
            del self.items[i]

    def rebuild(self, pairs: Iterable[tuple[Any, str]]) -> None:
        self.items = sorted(pairs)

    def ids_between(self, lo: Any, hi: Any) -> list[str]:
        """Ids with lo <= key < hi (either bound may be None)."""
        start = 0 if lo is None else bisect.bisect_left(self.items, (lo, ""))
        stop = len(self.items) if hi is None else bisect.bisect_left(self.items, (hi, ""))
        return [ident for _, ident in self.items[start:stop]]
