"""`stop()` of a waitress server whose loop runs in another thread (tests' live servers).

Seen: about one run in six, `stop()` raised `OSError: [Errno 9] Bad file descriptor` from waitress's
`trigger._physical_pull`. `trigger.pull_trigger(thunk)` appends the thunk (under the trigger's lock)
and only then writes the wake-up byte. When the loop is already awake - a worker that just answered a
request pulled the trigger without a thunk, and its byte was not yet read - the loop ran our thunk
(close_all: the trigger's pipe included) between the append and the write; the write then hit a
closed fd (or, had the number been reused meanwhile, another file).
"""

from __future__ import annotations

import os
import threading

from flask import Flask

from xero_sync.web.serving import make_server, stop


def test_stop_survives_the_loop_running_its_thunk_before_the_wake_up_write():
    """The interleaving, forced: the stopping thread is held between queueing its thunk and writing
    the trigger's byte until the loop, woken by an earlier pull, has had every chance to run it."""
    server = make_server(Flask(__name__), "127.0.0.1", 0)
    loop = threading.Thread(target=server.run, name="xero-sync-web-test", daemon=True)
    loop.start()
    trigger = server.trigger
    write = type(trigger)._physical_pull.__get__(trigger)
    held = []

    def descheduled_pull() -> None:
        if not held:  # the pull made by stop(): as if preempted just before its write
            held.append(True)
            os.write(trigger.trigger, b"x")  # a worker's earlier pull: the loop is already awake
            loop.join(timeout=2)  # the loop runs any queued thunk it may run now
        write()

    trigger._physical_pull = descheduled_pull
    try:
        stop(server)
    finally:
        loop.join(timeout=5)
    assert held, "stop() did not pull the trigger"
    assert not loop.is_alive() and not server._map  # the loop closed everything and ended
