"""The demo's UI mode: `dagster dev` as a child process, stopped cleanly on Ctrl-C or SIGTERM.

`dagster dev` runs in its own session (process group), so a terminal's Ctrl-C reaches only the
demo, which then stops the whole group itself: SIGINT to `dagster dev` (it shuts down its
webserver, daemon and code servers), then SIGKILL to whatever of the group is left (at once if
`dagster dev` is gone, after `STOP_SECONDS` if it hangs). No process outlives the demo, however
it ends: the group is stopped before anything is printed about it, and a closed output (`| tee
log`, whose `tee` the same Ctrl-C ends) only silences the demo (`say`). Run logs go to the
terminal at INFO (the demo's dagster.yaml sets `python_logs.python_log_level`), the services' own
logs at WARNING.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from xero_sync.demo.activity import ensure_demo_accounts, record_demo_activity
from xero_sync.store import connections
from xero_sync.store.db import make_engine

STOP_SECONDS = 30
WORKSPACE = Path(__file__).resolve().parents[2] / "workspace.yaml"


class Stopped(BaseException):
    """The demo was asked to stop (SIGINT or SIGTERM). A BaseException, like KeyboardInterrupt,
    so that no `except Exception` on the way (a run's step, a retry loop) swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum: int, _frame) -> None:
    raise Stopped(signum)


def stop_on_signals() -> Callable[[], None]:
    """Turn SIGINT and SIGTERM into `Stopped` (so `finally` blocks run); returns the undo."""
    previous = {s: signal.signal(s, _raise_stopped) for s in (signal.SIGINT, signal.SIGTERM)}
    def undo() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return undo


def say(text: str = "", *, file=None) -> None:
    """print, flushed; once the output is closed (the reader of a pipe went away) everything
    later goes to /dev/null instead of raising BrokenPipeError into a stop in progress."""
    stream = sys.stdout if file is None else file
    try:
        print(text, file=stream, flush=True)
    except (BrokenPipeError, ValueError, OSError):
        _silence(stream)


def _silence(stream) -> None:
    try:
        fd = stream.fileno()
    except (ValueError, OSError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)  # the interpreter's own flush at exit then has nowhere to fail
    os.close(devnull)


def exit_code(stop: Stopped) -> int:
    """130 after Ctrl-C (the shell's convention), 0 after a SIGTERM asking for a clean stop."""
    return 130 if stop.signum == signal.SIGINT else 0


def run_dagster_dev(database_url: str, sandbox_url: str, partner_id: str, port: int,
                    dagster_home: Path, key_file: Path) -> int:
    """Serve the Dagster UI until `dagster dev` exits or a signal stops the demo."""
    ui = f"http://127.0.0.1:{port}"
    say(f"[demo] sandbox at {sandbox_url}; starting Dagster UI on {ui}")
    say("[demo] the new_connection_sensor launches the last 12 months first, then history; Ctrl-C stops")
    # The dagster of this interpreter (the venv), whatever PATH says; `dg dev` is not installed,
    # so its notice that `dagster dev` is superseded would only be noise.
    cmd = [sys.executable, "-W", "ignore:Function `dev_command` is superseded", "-m", "dagster", "dev",
           "-w", str(WORKSPACE), "-h", "127.0.0.1", "-p", str(port), "--log-level", "warning"]
    env = dict(os.environ)
    if "XERO_SYNC_ENCRYPTION_KEY" not in env and key_file.exists():
        # Otherwise every run process would announce that it falls back to the key file.
        env["XERO_SYNC_ENCRYPTION_KEY"] = key_file.read_text().strip()
    # Started in DAGSTER_HOME: in the checkout, Dagster would warn about the production
    # dagster.yaml it finds there. The workspace file names the code's own folder.
    proc = subprocess.Popen(cmd, cwd=dagster_home, env=env, start_new_session=True)
    try:
        _watch(proc, ui, database_url, partner_id)
        return proc.wait()
    except Stopped as stop:
        stop_group(proc)  # first: printing may fail (the pipe's reader got the same Ctrl-C)
        say(f"\n[demo] {signal.Signals(stop.signum).name}: stopped Dagster; stopping the sandbox")
        raise
    finally:
        stop_group(proc)  # however else this ends (an error, a closed output): nothing outlives it


def stop_group(proc: subprocess.Popen, timeout: float = STOP_SECONDS) -> None:
    """Stop `proc` and every process of its group: SIGINT to `dagster dev` (it shuts down the
    processes it manages in order), then SIGKILL to whatever of the group is left."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        pass
    try:  # anything of the group still there (a slow run worker) does not outlive the demo
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _ui_answers(ui: str) -> bool:
    try:
        with urllib.request.urlopen(f"{ui}/server_info", timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _watch(proc: subprocess.Popen, ui: str, database_url: str, partner_id: str) -> None:
    """Say when the UI answers; when the sensor has brought the demo partner to Connected, do Set
    Up Accounts and record Alternative activity, so the UI also shows push runs."""
    from xero_sync.resources.xero import XeroResource

    engine = make_engine(database_url)
    ready = False
    try:
        while proc.poll() is None:
            if not ready and _ui_answers(ui):
                ready = True
                say(f"[demo] Dagster UI ready on {ui}")
            with engine.begin() as conn:
                connection = connections.require_connection(conn, partner_id)
            if ready and connection.status == "connected":
                break
            try:
                proc.wait(timeout=1 if not ready else 5)  # wakes early if dagster dev exits
            except subprocess.TimeoutExpired:
                pass
        else:
            return
        ensure_demo_accounts(engine, XeroResource().client_for(connection), partner_id)
        ids = record_demo_activity(engine, partner_id)
        say(f"[demo] {partner_id} is connected; accounts set up and Alternative activity recorded "
              f"({', '.join(ids)}): the payment_outbox_sensor pushes it within seconds. Materialize "
              f"reconciliation_diff for partition {partner_id} to see the diff.")
    finally:
        engine.dispose()
