"""Run one function per partner on a thread pool, each partner's error kept to itself.

Partners of a cohort are independent (each has its own tenant, lock and Xero client), and a
steady-state pull mostly waits on Xero, so threads overlap the waits. `run_concurrently` yields
each partner as it finishes, with its result or its exception; an exception never stops the
others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Finished(Generic[T]):
    partner_id: str
    result: T | None
    error: BaseException | None


def run_concurrently(partner_ids: Iterable[str], work: Callable[[str], T], workers: int) -> Iterator[Finished[T]]:
    """`work(partner_id)` for every partner, at most `workers` at a time, yielded as they finish."""
    ids = list(partner_ids)
    if not ids:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(ids))), thread_name_prefix="cohort") as pool:
        futures = {pool.submit(work, partner_id): partner_id for partner_id in ids}
        for future in as_completed(futures):
            error = future.exception()
            yield Finished(futures[future], None if error else future.result(), error)
