"""Time for the sandbox, scalable for tests without changing code paths.

Everything time-based in the sandbox (token expiry, rate-limit windows, idempotency windows,
`UpdatedDateUTC`) reads this clock. `Clock()` is wall time; `Clock(frozen_at=...)` only moves when
`advance()` is called, so a test can cross a minute or a day window instantly; `scale` speeds up
wall time (scale=60 makes a minute pass in a second) for demos.
"""

from __future__ import annotations

import datetime as dt
import threading
import time


class Clock:
    def __init__(self, *, frozen_at: dt.datetime | None = None, scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._frozen = frozen_at
        self._scale = scale
        self._offset = 0.0  # seconds added by advance()
        self._origin_wall = time.time()
        self._origin_mono = time.monotonic()

    def time(self) -> float:
        """Seconds since the epoch, on this clock."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen.timestamp() + self._offset
            elapsed = (time.monotonic() - self._origin_mono) * self._scale
            return self._origin_wall + elapsed + self._offset

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.time(), tz=dt.timezone.utc)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    @property
    def is_frozen(self) -> bool:
        return self._frozen is not None

    def sleep(self, seconds: float) -> None:
        """Sleep on this clock: advances a frozen clock, waits (scaled) wall time otherwise."""
        if seconds <= 0:
            return
        if self._frozen is not None:
            self.advance(seconds)
        else:
            time.sleep(seconds / self._scale)
