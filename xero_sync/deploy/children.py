"""The deployment's child processes: each in its own session with its log in a file, watched
while it runs, stopped together.

Each child gets its own process group, so a terminal's Ctrl-C reaches only `deploy-local`, which
then stops everything itself (the demo's way, `xero_sync.demo.ui`): SIGTERM to every child at
once, a bounded wait, then SIGKILL to whatever is left of each group (a run worker a code server
started, a step process), and a bounded wait until no process of any group is left.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from xero_sync.store.private_files import open_log, private_folder

STOP_SECONDS = 20.0  # for the services to shut down by themselves before SIGKILL
GONE_SECONDS = 10.0  # for the kernel to remove what SIGKILL ended
POLL_SECONDS = 0.2


class ChildExited(RuntimeError):
    """A service ended while the deployment needed it; the message has its log's last lines."""


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log: Path

    @property
    def pgid(self) -> int:
        return self.proc.pid  # the leader of its own session and group

    def running(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            return "".join(self.log.read_text(errors="replace").splitlines(keepends=True)[-lines:])
        except OSError:
            return ""


def _stop_with_parent() -> None:
    """Linux: this child gets SIGTERM if deploy-local dies without stopping it (SIGKILL, a crash),
    so no service outlives it even then. Runs in the child between fork and exec."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT/SIGTERM wait until the block ends (a child started is always recorded, so the
    stop that the signal causes always reaches it); then the previous handler runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {s: signal.signal(s, lambda signum, _frame: caught.append(signum))
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if caught:
            handler = previous[signal.Signals(caught[0])]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(caught[0])


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group `pgid`, from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


class Children:
    """The processes one deployment started, in start order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.items: list[Child] = []

    def spawn(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path) -> Child:
        private_folder(self.log_dir)  # 0700; each log 0640 from its first byte
        log_path = self.log_dir / f"{name}.log"
        with signals_deferred(), open_log(log_path) as log:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    preexec_fn=_stop_with_parent if sys.platform == "linux" else None)
            child = Child(name, proc, log_path)
            self.items.append(child)
        return child

    def check(self) -> None:
        """Raise ChildExited if a service has ended."""
        for child in self.items:
            if not child.running():
                raise ChildExited(f"{child.name} exited with {child.proc.returncode}; "
                                  f"last lines of {child.log}:\n{child.tail()}")

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float,
                 interval: float = 0.5) -> float:
        """Poll `ready()` until it holds (seconds taken); a dead child or the deadline raises."""
        started = time.monotonic()
        while True:
            self.check()
            if ready():
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{what} not ready after {timeout:.0f} s (logs in {self.log_dir})")
            time.sleep(interval)  # poll interval of a bounded wait on another process

    def groups(self) -> list[int]:
        return [child.pgid for child in self.items]

    def stop(self, stop_seconds: float = STOP_SECONDS, gone_seconds: float = GONE_SECONDS) -> list[str]:
        """Stop every child and its group; returns what had to be killed (for the log)."""
        for child in self.items:
            if child.running():
                with contextlib.suppress(ProcessLookupError):
                    child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + stop_seconds
        for child in self.items:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        killed = []
        for child in self.items:
            if group_members(child.pgid):
                killed.append(child.name if child.running() else f"{child.name}'s remaining processes")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pgid, signal.SIGKILL)
        deadline = time.monotonic() + gone_seconds
        for child in self.items:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            while group_members(child.pgid) and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)  # poll interval of a bounded wait for the kernel
        return killed
