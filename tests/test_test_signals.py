"""The test processes keep SIGTERM working for the processes they start, also after an in-process
Dagster run and when the test command itself was started in the background (tests/conftest.py)."""

from __future__ import annotations

import multiprocessing
import signal

import dagster as dg


def wait_for(event) -> None:
    event.wait()  # until the parent sets it, which it never does: only a signal ends it


def test_a_child_started_after_a_dagster_run_stops_on_sigterm():
    @dg.asset
    def probe() -> int:
        return 1

    with dg.instance_for_test() as instance:
        assert dg.materialize([probe], instance=instance).success
    assert signal.getsignal(signal.SIGTERM) != signal.SIG_IGN

    context = multiprocessing.get_context("spawn")
    never = context.Event()
    child = context.Process(target=wait_for, args=(never,))
    child.start()
    try:
        child.terminate()
        child.join(timeout=60)
        assert child.exitcode == -signal.SIGTERM
    finally:
        if child.is_alive():
            child.kill()
            child.join()
