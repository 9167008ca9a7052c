"""Building and sending the requests of a push, each with the key its rows keep.

A PUT /Payments batch is stored (key + every payment in it, exact amounts as strings) on each of
its rows *before* it is sent (outbox.record_request), so a re-send after a lost answer is byte
for byte the first request with the first key, whoever sends it. The other writes (stand-alone
deposits, payouts, deletes) carry keys derived from their row's key (ledger.write_key), so their
re-sends carry the same keys too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from decimal import Decimal

from xero_sync.sync.ledger import (
    BankTransactionWrite,
    BankTransferWrite,
    DeleteBankTransactionWrite,
    DeletePaymentWrite,
    PaymentWrite,
    PlannedWrite,
)
from xero_sync.xero.client import XeroClient
from xero_sync.xero.writes import NewBankTransaction, NewBankTransfer, NewLine, NewPayment, reference_where

PAYMENTS_CALL = "PUT /Payments"


def batch_key(partner_id: str, outbox_keys: Sequence[str], generation: int = 0) -> str:
    """One Idempotency-Key for a PUT /Payments batch: a hash of the canonical JSON encoding of
    its partner, its rows' outbox keys in order and (for a batch re-formed after its original
    settled absent) the generation, so two different batches never share a key; ≤ 128
    characters. Batches already sent keep their stored keys (re-sent byte for byte)."""
    canonical = json.dumps([partner_id, list(outbox_keys), generation], separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:48]
    return f"xs/{partner_id}/payments/{len(outbox_keys)}/{digest}"


def payments_request(key: str, batch: Sequence[PaymentWrite]) -> dict:
    """The stored form of a PUT /Payments batch (JSON; amounts as exact strings)."""
    return {
        "call": PAYMENTS_CALL, "key": key,
        "payments": [
            {"outbox_id": w.outbox_id, "invoice_id": w.invoice_id, "account_id": w.account_id,
             "date": w.date.isoformat(), "amount": str(w.amount), "reference": w.reference}
            for w in batch
        ],
    }


def stored_payments(request: dict) -> list[tuple[int, NewPayment]]:
    """(outbox id, payment) of a stored PUT /Payments request, in the order first sent."""
    return [
        (int(p["outbox_id"]),
         NewPayment(p["invoice_id"], p["account_id"], dt.date.fromisoformat(p["date"]),
                    Decimal(p["amount"]), p["reference"]))
        for p in request["payments"]
    ]


def row_request(key: str, writes: Sequence[PlannedWrite]) -> dict:
    """The stored form of a non-payment row's writes: their keys and references."""
    return {"call": "writes", "key": key,
            "writes": [{"type": type(w).__name__, "key": w.idempotency_key,
                        "reference": getattr(w, "reference", None)} for w in writes]}


def check_reference(write: PlannedWrite) -> str | None:
    """Why a write could not be looked up in Xero after a lost answer (then it is never sent)."""
    reference = getattr(write, "reference", None)
    if reference is None:
        return None
    try:
        reference_where(reference)
    except ValueError as exc:
        return f"not sent: {exc}; a write Xero cannot find again is never sent"
    return None


def send_one(client: XeroClient, write: PlannedWrite) -> str | None:
    """Send one non-payment write with its own key; Xero's id of what it created (None for deletes)."""
    if isinstance(write, BankTransactionWrite):
        lines = [NewLine(line.description, line.amount, account_code=line.account_code)
                 for line in write.lines]
        tx = NewBankTransaction(write.type, write.bank_account_id, write.contact_id,
                                write.date, write.reference, lines)
        return client.create_bank_transaction(tx, write.idempotency_key)
    if isinstance(write, BankTransferWrite):
        transfer = NewBankTransfer(write.from_account_id, write.to_account_id, write.amount,
                                   write.date, write.reference)
        return client.create_bank_transfer(transfer, write.idempotency_key)
    if isinstance(write, DeletePaymentWrite):
        client.delete_payment(write.xero_payment_id, write.idempotency_key)
        return None
    if isinstance(write, DeleteBankTransactionWrite):
        client.delete_bank_transaction(write.bank_transaction_id, write.idempotency_key)
        return None
    raise TypeError(f"outbox {write.outbox_id}: cannot send {type(write).__name__} alone")


def id_key(write: PlannedWrite) -> str:
    """The name under which a write's Xero id is stored in `outbox.xero_ids`."""
    if isinstance(write, PaymentWrite):
        return "PaymentID"
    if isinstance(write, BankTransferWrite):
        return "BankTransferID"
    if isinstance(write, BankTransactionWrite):
        # A payout's fees SPEND sits beside its deposit or transfer.
        return "FeesBankTransactionID" if write.reference.endswith(" fees") else "BankTransactionID"
    return "Deleted"
