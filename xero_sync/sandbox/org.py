"""One Xero organisation held in memory, with Xero's business rules (work in progress)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from xero_sync.sandbox.clock import Clock

OnChange = Callable[[str, str, str], None]


class Organisation:
    def __init__(self, tenant_id: str, name: str, currency: str, clock: Clock, short_code: str,
                 on_change: OnChange | None = None) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.currency = currency
        self.clock = clock
        self.short_code = short_code
        self.on_change = on_change
        self.lock = threading.RLock()
