"""Stores whose stamp says more than their schema has: repaired before upgrading, else refused.

Five branches each added a migration straight after 0002 (0004, 0008, 0006, 0003, 0005); at merge
they were re-chained one after another (0002 -> 0004 -> 0008 -> 0006 -> 0003 -> 0005 -> 0009).
A store a branch made (or the 0009 branch, also on 0002) is stamped with its own revision but
lacks what the others add, and Alembic, trusting the stamp, never applies them: it would reach
"0010" with tables and columns missing. Each of those migrations is recognised by what it
creates first and last (a migration applies in one transaction); a store stamped past one that has
none of it gets that migration applied first, in chain order, then upgrades as usual.

Whatever else differs from the models after upgrading is refused by `platform.db.upgrade`.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

# revision -> what it creates, (table, column or None), first and last. A store that has none of
# them skipped the migration; one that has some of them is not a re-chaining artifact (someone
# changed it by hand): it is left alone here and refused by `upgrade`'s comparison.
RECHAINED_MARKERS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "0004": (("invoices", "xero_total_minor"), ("invoices", "edit_conflict")),
    "0008": (("xero_connections", "last_failure_job"), ("xero_api_calls", None)),
    "0006": (("xero_token_sets", "refresh_owner"), ("webhook_events", "dedupe_key")),
    "0003": (("xero_connections", "fees_as_spend"), ("payments", "refund_payout_id")),
    "0005": (("outbox", "request_key"), ("tenant_locks", None)),
}


def _has(inspector: sa.Inspector, table: str, column: str | None) -> bool:
    if not inspector.has_table(table):
        return False
    return column is None or column in {c["name"] for c in inspector.get_columns(table)}


def missing_rechained(connection: sa.Connection, script: ScriptDirectory, stamped: str | None) -> list[str]:
    """The re-chained migrations before `stamped` whose marker this store lacks, in chain order."""
    if stamped is None:
        return []
    before = [rev.revision for rev in reversed(list(script.walk_revisions("base", stamped)))
              if rev.revision != stamped]
    inspector = sa.inspect(connection)
    return [rev for rev in before if rev in RECHAINED_MARKERS
            and not any(_has(inspector, *marker) for marker in RECHAINED_MARKERS[rev])]


def repair(connection: sa.Connection, script: ScriptDirectory, stamped: str | None) -> list[str]:
    """Apply the re-chained migrations this store skipped (see the module docstring); their ids."""
    missing = missing_rechained(connection, script, stamped)
    if not missing:
        return []
    context = MigrationContext.configure(
        connection, opts={"render_as_batch": connection.dialect.name == "sqlite"})
    with Operations.context(context):
        for revision in missing:
            log.warning("platform store stamped %s lacks migration %s (re-chained at a merge): applying it",
                        stamped, revision)
            script.get_revision(revision).module.upgrade()
    return missing
