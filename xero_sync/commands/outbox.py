"""`xero-sync outbox held [--partner P] | resume ID --note TEXT | cancel ID --note TEXT |
requeue ID --note TEXT`.

A row sent MAX_ATTEMPTS times without settling is `held` for a person. After checking Xero they
either resume it (back to `unknown`: the push path settles it by look-up first, never writes
twice) or cancel it; the note is kept on the row.

`requeue` re-creates a done write the reconciliation diff would not re-create by itself (its row
says "review": deleted in Xero again after its repair, not shown by id, or gone beside a possible
manual booking): a new outbox row with a new key, once per write, pushed by the next push.
"""

from __future__ import annotations

import argparse

import sqlalchemy as sa

from xero_sync.config import Settings
from xero_sync.store import outbox
from xero_sync.store.db import open_store


def run(args: argparse.Namespace) -> int:
    from xero_sync.commands.cli import UserError

    engine = open_store(args.database_url or Settings.from_env().database_url)
    try:
        with engine.begin() as conn:
            if args.action == "held":
                rows = outbox.held_rows(conn, args.partner)
                for r in rows:
                    print(f"{r.outbox_id}\t{r.partner_id}\t{r.kind}\t{r.reference}\tsent {r.attempts} times"
                          f"\t{(r.error or '')[:120]}")
                print(f"{len(rows)} held row(s)")
                return 0
            if not args.note.strip():
                raise UserError("--note must say what was checked in Xero")
            if args.action == "requeue":
                try:
                    new_id = outbox.requeue_reviewed(conn, args.id, args.note.strip())
                except outbox.OutboxError as exc:
                    raise UserError(str(exc)) from None
                print(f"outbox row {args.id} re-queued as outbox row {new_id} (pending); the next "
                      "push writes it")
                return 0
            move = outbox.resume_held if args.action == "resume" else outbox.cancel_held
            try:
                row = move(conn, args.id, args.note.strip())
            except outbox.OutboxError as exc:
                raise UserError(str(exc)) from None
            print(f"outbox row {row.outbox_id} ({row.partner_id}, {row.kind} {row.reference}) is now {row.status}")
            return 0
    except sa.exc.IntegrityError:
        raise UserError(f"outbox row {args.id} was already re-queued (by another command at the "
                        "same moment)") from None
    finally:
        engine.dispose()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("outbox", help="list, resume, cancel or re-queue writes waiting for a person")
    parser.add_argument("--database-url", help="platform store URL (default: XERO_SYNC_DATABASE_URL)")
    actions = parser.add_subparsers(dest="action", required=True)
    held = actions.add_parser("held", help="rows sent too often without settling")
    held.add_argument("--partner")
    for name, text in (("resume", "settle the row again (look-up first; never a second write)"),
                       ("cancel", "do not write this row"),
                       ("requeue", "write a done row again that the diff marked for review "
                                   "(deleted in Xero again): a new row, once")):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", type=int)
        action.add_argument("--note", required=True, help="what was checked in Xero")
    parser.set_defaults(func=run)
