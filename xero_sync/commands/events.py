"""`xero-sync event NAME --partner P ...`: report an Alternative event (SPEC section 8) from the shell,
for the demo and operators. One subcommand per event of `platform.events.EVENTS`; options are the
event's fields (`--payment-id`, `--amount 12.50`, `--payment-ids a,b` ...). Prints one line with
the recorded ids; a refusal prints one line naming the field and exits 2, writing nothing.
"""

from __future__ import annotations

import argparse

from xero_sync.config import Settings
from xero_sync.events import api as events
from xero_sync.store.db import make_engine

_HELP = {
    "name": "customer name", "email": "customer email",
    "number": "Alternative invoice number (an id: letters, digits, _ . : -)",
    "currency": "ISO currency code, e.g. USD", "amount": "amount in major units, e.g. 250.00",
    "issue_date": "YYYY-MM-DD", "due_date": "YYYY-MM-DD", "customer_id": "platform customer id",
    "invoice_id": "platform invoice id", "subject": "invoice or customer",
    "subject_id": "the invoice's or customer's platform id", "payment_id": "Alternative payment id",
    "paid_on": "YYYY-MM-DD", "fee": "fee absorbed by the partner, e.g. 0.80 (default 0)",
    "status": "failed (default) or refunded", "payout_id": "Alternative payout id",
    "payment_ids": "comma-separated payment ids", "fees": "fees of the payout, e.g. 1.50",
    "paid_out_on": "YYYY-MM-DD",
    "refund_ids": "comma-separated refunded payment ids an earlier payout paid out, taken back by this one",
}
_DESCRIPTION = {
    "customer-created": "a customer created in Alternative (never created in Xero)",
    "invoice-created": "an invoice created in Alternative (never created in Xero)",
    "invoice-edited": "amount and/or due date of an unpaid invoice edited in Alternative",
    "archived": "a customer or invoice archived by hand (e.g. one flagged deleted_in_xero)",
    "payment-taken": "a payment Alternative collected (queues its write to Xero)",
    "payment-failed": "a payment that failed or was refunded (cancels or deletes its write)",
    "payout-sent": "a payout of collected payments to the partner's bank (queues its write)",
}


def run(args: argparse.Namespace) -> int:
    from xero_sync.commands.cli import UserError

    kind = events.EVENTS[args.event]
    values = {f: getattr(args, f) for f in kind.fields}
    for listed in ("payment_ids", "refund_ids"):
        if values.get(listed) is not None:
            values[listed] = [p.strip() for p in values[listed].split(",") if p.strip()]
    engine = make_engine(args.database_url or Settings.from_env().database_url)
    try:
        result = kind.call(engine, args.partner, values, idempotency_key=args.idempotency_key)
    except events.EventRefused as exc:
        raise UserError(f"{kind.name} refused: {exc}") from None
    finally:
        engine.dispose()
    subject = next((f"{f} {values[f]}" for f in ("payment_id", "payout_id") if values.get(f)), None)
    print(f"recorded {kind.name} for partner {args.partner}: "
          + ", ".join(x for x in (subject, f"{kind.result} {result}") if x))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("event", help="report an Alternative event (events API)")
    names = parser.add_subparsers(dest="event", required=True, metavar="EVENT")
    for kind in events.EVENTS.values():
        sub = names.add_parser(kind.name, help=_DESCRIPTION[kind.name], description=_DESCRIPTION[kind.name])
        sub.add_argument("--partner", required=True, help="partner id (slug)")
        for field in kind.fields:
            sub.add_argument(f"--{field.replace('_', '-')}", dest=field, required=field in kind.required,
                             help=_HELP.get(field))
        sub.add_argument("--idempotency-key", help="makes a retry safe: the same event with the same "
                         "key answers the first answer (e.g. a UUID)")
        sub.add_argument("--database-url", help="platform store URL (default: XERO_SYNC_DATABASE_URL)")
        sub.set_defaults(func=run)
