"""A process's descendants from /proc, for tests that check that a stop left nothing behind."""

from __future__ import annotations

import os
from pathlib import Path


def proc_stat(pid: int) -> tuple[int, str, str, int] | None:
    """(ppid, state, start time, process group) from /proc, or None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[0], fields[19], int(fields[2])


def descendants(root: int) -> dict[int, str]:
    """Every live descendant of `root`: pid -> start time (so a reused pid is not mistaken)."""
    children: dict[int, list[int]] = {}
    starts = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := proc_stat(int(entry))) is not None:
            children.setdefault(stat[0], []).append(int(entry))
            starts[int(entry)] = stat[2]
    out, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out[child] = starts[child]
            todo.append(child)
    return out


def still_running(pids: dict[int, str]) -> list[int]:
    alive = []
    for pid, start in pids.items():
        stat = proc_stat(pid)
        if stat is not None and stat[2] == start and stat[1] != "Z":
            alive.append(pid)
    return alive


def in_groups(pgids: set[int]) -> list[int]:
    """Live (non-zombie) processes whose process group is one of `pgids`."""
    return [int(e) for e in os.listdir("/proc") if e.isdigit()
            and (stat := proc_stat(int(e))) is not None and stat[3] in pgids and stat[1] != "Z"]
