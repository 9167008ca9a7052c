"""Ctrl-C (SIGINT) and SIGTERM stop `xero-sync demo` in UI mode cleanly: `dagster dev` and every
process it started are gone, the sandbox stops, and the exit code says how it was stopped."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.process_tree import descendants, still_running

ROOT = Path(__file__).resolve().parents[2]
READY_SECONDS = 240  # dagster dev starts a webserver, a daemon and a code server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_a_signal_stops_the_ui_demo_and_everything_it_started(tmp_path, signum, exit_code):
    sandbox_port, dagster_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "xero_sync.commands.cli", "demo", "--home", str(tmp_path / "state"),
         "--port", str(sandbox_port), "--dagster-port", str(dagster_port), "--invoices", "20", "--months", "2"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    threading.Thread(target=lambda: [lines.put(line) for line in demo.stdout], daemon=True).start()
    try:
        while True:  # the demo says when the UI answers
            line = lines.get(timeout=READY_SECONDS)
            seen.append(line)
            if "Dagster UI ready" in line:
                break
        started = descendants(demo.pid)
        assert len(started) >= 3, started  # dagster dev, its webserver and daemon at least
        demo.send_signal(signum)
        assert demo.wait(timeout=120) == exit_code, "".join(seen)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert still_running(started) == [], "".join(seen)
    # The sandbox port is free again.
    with socket.socket() as s:
        s.bind(("127.0.0.1", sandbox_port))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_everything_when_the_output_pipe_is_gone(tmp_path, signum):
    """Issue 20: `scripts/quickstart 2>&1 | tee log`, then Ctrl-C: the terminal's SIGINT ends `tee`
    too, the demo's "stopping" line met a closed pipe (BrokenPipeError) before it stopped Dagster,
    and all of Dagster kept running. Here the pipe's reader goes away once the UI is ready, then
    the signal comes: nothing the demo started may outlive it."""
    sandbox_port, dagster_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "xero_sync.commands.cli", "demo", "--home", str(tmp_path / "state"),
         "--port", str(sandbox_port), "--dagster-port", str(dagster_port), "--invoices", "20", "--months", "2"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    ready = threading.Event()
    seen: list[str] = []

    def reader() -> None:  # like `tee`: reads until the UI is up, then exits and closes the pipe
        for line in demo.stdout:
            seen.append(line)
            if "Dagster UI ready" in line:
                ready.set()
                break
        demo.stdout.close()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    started = {}
    try:
        assert ready.wait(timeout=READY_SECONDS), "".join(seen)
        thread.join(timeout=10)
        started = descendants(demo.pid)
        assert len(started) >= 3, started
        demo.send_signal(signum)
        demo.wait(timeout=120)
    finally:
        if demo.poll() is None:
            demo.kill()
    gone_by = time.monotonic() + 30  # SIGKILLed groups take a moment to leave /proc
    while still_running(started) and time.monotonic() < gone_by:
        time.sleep(0.2)  # poll interval of a bounded wait for the kernel
    left = still_running(started)
    for pid in left:  # what this test started must not outlive it, even when it fails
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert left == [], "".join(seen)
    assert demo.returncode == (130 if signum == signal.SIGINT else 0)
