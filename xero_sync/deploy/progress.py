"""Where the deployment's partners are, read from the platform store (no Xero call)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from xero_sync.store.schema import xero_connections
from xero_sync.store.states import ConnectionStatus


@dataclass(frozen=True)
class Progress:
    partners: int
    connected: int
    months_done: int
    months_total: int

    def line(self) -> str:
        return (f"{self.connected}/{self.partners} partners connected; "
                f"{self.months_done}/{self.months_total} months synced")

    @property
    def all_connected(self) -> bool:
        return self.partners > 0 and self.connected == self.partners


def progress(engine: sa.Engine) -> Progress:
    c = xero_connections.c
    with engine.connect() as conn:
        row = conn.execute(sa.select(
            sa.func.count(),
            sa.func.count().filter(c.status == ConnectionStatus.CONNECTED),
            sa.func.coalesce(sa.func.sum(c.months_done), 0),
            sa.func.coalesce(sa.func.sum(c.months_total), 0),
        )).one()
    return Progress(*(int(v) for v in row))
