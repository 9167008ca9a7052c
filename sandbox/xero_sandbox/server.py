"""Running the sandbox over real HTTP: a background server for tests, a foreground one for the CLI."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from xero_sandbox.app import create_app
from xero_sandbox.state import Sandbox


class _QuietHandler(WSGIRequestHandler):
    """No per-request access log lines (tests make thousands); /_sandbox/requests has them."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


class SandboxServer:
    """werkzeug's threaded server in a daemon thread; `with SandboxServer(sb) as server: ...`."""

    def __init__(
        self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, *, access_log: bool = False
    ) -> None:
        self.sandbox = sandbox
        self.access_log = access_log
        self.host = host
        self.port = port
        self.app = create_app(sandbox)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "SandboxServer":
        if self._server is not None:
            return self
        self._server = make_server(
            self.host,
            self.port,
            self.app,
            threaded=True,
            request_handler=None if self.access_log else _QuietHandler,
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll; keep tests fast
            name=f"xero-sandbox:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sandbox.close()
        self._server = self._thread = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("SandboxServer is not started; call start() or use it as a context manager")
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(
    sandbox: Sandbox,
    host: str = "127.0.0.1",
    port: int = 5055,
    on_ready: Callable[[SandboxServer], None] | None = None,
) -> None:
    """Serve in the foreground until SIGINT or SIGTERM, then shut down cleanly.

    `on_ready(server)` runs once the socket is listening (the CLI prints its banner there).
    """
    server = SandboxServer(sandbox, host, port, access_log=True).start()
    if on_ready is not None:
        on_ready(server)
    stopped = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        stopped.wait()
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
