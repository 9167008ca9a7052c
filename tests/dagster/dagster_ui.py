"""A Dagster webserver on an ephemeral port over a test instance's DAGSTER_HOME (a subprocess, so
the UI is exactly what the data team runs: `dagster-webserver -m xero_sync.definitions`)."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READY_MARKER = "Serving dagster-webserver on"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dagster_webserver(dagster_home: str, timeout: float = 60.0) -> Iterator[str]:
    """Start the webserver; yield its base URL once it says it is serving; stop it after."""
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": dagster_home,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    cmd = [str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1", "-p", str(port),
           "-m", "xero_sync.definitions", "-d", str(REPO)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        # Read its log until it says it serves (event-driven, bounded by `timeout`).
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while not any(READY_MARKER in line for line in output):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None:
                raise RuntimeError("dagster-webserver did not start:\n" + "".join(output[-40:]))
            if selector.select(timeout=remaining):
                line = proc.stdout.readline()
                if line:
                    output.append(line)
        selector.close()
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
