"""Ledger planning: one outbox row -> the Xero writes that record it (SPEC section 4).

Pure: no I/O. The push run reads an outbox row, calls `plan`, and sends what comes back. Each
planned write carries a reference and an idempotency key that are functions of the outbox row
alone, so after an unknown outcome the push run can look the write up in Xero by reference and,
within Xero's few-minute idempotency window, replay it safely with the same key.

Outbox payloads (integer minor units; ISO dates as strings because payloads are JSON):

- payment: {"payment_id", "invoice_xero_id", "amount_minor", "currency", "paid_on"}
- deposit (a payment on an invoice created in Alternative):
  {"payment_id", "invoice_number", "amount_minor", "currency", "paid_on"}
- payout: {"payout_id", "gross_minor", "fees_minor", "net_minor", "currency", "paid_out_on",
  "xero_invoice_minor", "deposits": [{"payment_id", "amount_minor"}], "deposit_payment_ids"}.
  gross = the payout's payments less the refunds it takes back, net = gross - fees = the bank
  line. `xero_invoice_minor` is the part on Xero invoices (written as Payments into the payments
  account); `deposits` are its stand-alone deposits (a refund taken back is negative), so
  gross == xero_invoice_minor + sum(deposits). With a non-BANK payments account the deposits
  went straight into the deposit account: the payout moves only `xero_invoice_minor` and the
  bank line is its deposit plus those deposits (`PayoutComposition`). With a BANK payments account
  everything sits there and the payout transfers the net. A payload without
  `xero_invoice_minor` (written before issue 8) is read as all money on Xero invoices.
- delete_payment: {"payment_id", "xero_payment_id"}
- delete_deposit: {"payment_id", "bank_transaction_id"}
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xero_sync.core.money import from_minor

MAX_KEY_LENGTH = 128  # Xero refuses longer Idempotency-Key headers with a 400

OUTBOX_KINDS = ("payment", "deposit", "payout", "delete_payment", "delete_deposit")


@dataclass(frozen=True)
class AccountSetup:
    """The partner's Set Up Accounts choices (Xero AccountIDs and codes); None = not chosen."""

    payments_account_id: str | None
    payments_account_code: str | None
    payments_account_is_bank: bool | None
    deposit_account_id: str | None
    fees_account_id: str | None
    fees_account_code: str | None
    income_account_id: str | None
    income_account_code: str | None
    clearing_contact_id: str | None
    # SPEC section 4: a negative line on a RECEIVE is UNVERIFIED in Xero; this books the fees
    # as a separate SPEND from the deposit account instead.
    fees_as_separate_spend: bool = False


@dataclass(frozen=True)
class OutboxItem:
    """One outbox row (schema.outbox), as the planner needs it."""

    outbox_id: int
    kind: str
    subject_id: str
    idempotency_key: str
    reference: str
    payload: Mapping[str, object]


@dataclass(frozen=True)
class Line:
    """One bank-transaction line; `amount` in major units, negative for a deduction."""

    description: str
    account_code: str
    amount: Decimal


@dataclass(frozen=True)
class PaymentWrite:
    """PUT /Payments element: a payment on a Xero invoice."""

    outbox_id: int
    invoice_id: str
    account_id: str
    date: date
    amount: Decimal
    reference: str
    idempotency_key: str


@dataclass(frozen=True)
class BankTransactionWrite:
    """PUT /BankTransactions element: a RECEIVE or SPEND on a bank account."""

    outbox_id: int
    type: str  # RECEIVE | SPEND
    bank_account_id: str
    contact_id: str
    date: date
    reference: str
    lines: tuple[Line, ...]
    idempotency_key: str

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class BankTransferWrite:
    """PUT /BankTransfers element: money moved between two BANK accounts."""

    outbox_id: int
    from_account_id: str
    to_account_id: str
    amount: Decimal
    date: date
    reference: str
    idempotency_key: str


@dataclass(frozen=True)
class DeletePaymentWrite:
    """POST /Payments/{id} with Status DELETED: the invoice shows unpaid again."""

    outbox_id: int
    xero_payment_id: str
    idempotency_key: str


@dataclass(frozen=True)
class DeleteBankTransactionWrite:
    """POST /BankTransactions/{id} with Status DELETED: removes a stand-alone deposit."""

    outbox_id: int
    bank_transaction_id: str
    idempotency_key: str


@dataclass(frozen=True)
class Waiting:
    """Cannot be written yet (accounts not set up); shown to the partner, not a failure."""

    outbox_id: int
    reason: str


@dataclass(frozen=True)
class Invalid:
    """The outbox payload is inconsistent; writing it would put wrong numbers in Xero."""

    outbox_id: int
    reason: str


PlannedWrite = (
    PaymentWrite
    | BankTransactionWrite
    | BankTransferWrite
    | DeletePaymentWrite
    | DeleteBankTransactionWrite
)
PlanResult = PlannedWrite | Waiting | Invalid


class _PayloadError(ValueError):
    """A payload field is missing or has the wrong shape (becomes Invalid)."""


def write_key(outbox_key: str, suffix: str = "") -> str:
    """Idempotency key for one write of an outbox row: the row's key plus a per-write suffix.

    Kept within Xero's 128 characters: a key that would be longer is shortened to a prefix plus
    a hash of the whole key, so it stays deterministic and distinct.
    """
    # Keys of the structured form (platform.outbox.idempotency_key, `xs/...`) take the suffix
    # after a '/', which no id contains; older keys (`xs-...`) keep ':' so their writes keep the
    # keys they were first sent with.
    sep = "/" if outbox_key.startswith("xs/") else ":"
    key = f"{outbox_key}{sep}{suffix}" if suffix else outbox_key
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{key[: MAX_KEY_LENGTH - len(digest) - 1]}~{digest}"


def plan(item: OutboxItem, accounts: AccountSetup) -> list[PlanResult]:
    """The Xero writes for one outbox row, in the order they must be sent.

    Returns a single Waiting when a needed account is not set up, and a single Invalid when the
    payload is inconsistent; otherwise only planned writes.
    """
    planner = _PLANNERS.get(item.kind)
    if planner is None:
        return [Invalid(item.outbox_id, f"unknown outbox kind {item.kind!r}")]
    try:
        return planner(item, accounts)
    except _PayloadError as exc:
        return [Invalid(item.outbox_id, f"outbox {item.outbox_id} ({item.kind}): {exc}")]


def batch_payments(writes: Iterable[PlanResult], size: int = 50) -> list[list[PaymentWrite]]:
    """The PaymentWrites among `writes`, in order, in PUT /Payments batches of at most `size`.

    Xero documents no hard limit; about 50 per request keeps bodies far under 3.5 MB.
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    payments = [w for w in writes if isinstance(w, PaymentWrite)]
    return [payments[i : i + size] for i in range(0, len(payments), size)]


@dataclass(frozen=True)
class PayoutComposition:
    """What a payout is made of (minor units): see the module doc's payout payload."""

    gross: int
    fees: int
    net: int
    xero_invoice: int  # money on Xero invoices: in the payments account
    deposits: tuple[tuple[str, int], ...]  # (payment_id, amount) of its stand-alone deposits

    @property
    def deposits_total(self) -> int:
        return sum(amount for _, amount in self.deposits)

    def moved(self, *, payments_account_is_bank: bool) -> int:
        """What the payout takes out of the payments account (its fees included)."""
        return self.gross if payments_account_is_bank else self.xero_invoice

    def deposit_account_movement(self, *, payments_account_is_bank: bool) -> int:
        """What the payout's own writes move into the deposit account."""
        return self.net if payments_account_is_bank else self.xero_invoice - self.fees


def payout_composition(payload: Mapping[str, object]) -> PayoutComposition:
    """The payout payload, checked (raises ValueError naming the field when inconsistent)."""
    gross = _amount(payload, "gross_minor")
    fees = _amount(payload, "fees_minor")
    net = _amount(payload, "net_minor")
    if net != gross - fees:
        raise _PayloadError(f"net {net} != gross {gross} - fees {fees}")
    if net <= 0:
        raise _PayloadError(f"net {net} must be positive")
    if "xero_invoice_minor" not in payload:
        return PayoutComposition(gross, fees, net, gross, ())
    xero_invoice = _signed(payload, "xero_invoice_minor")
    raw = payload.get("deposits", [])
    if not isinstance(raw, list | tuple):
        raise _PayloadError(f"deposits must be a list, got {raw!r}")
    deposits = tuple((_str(d, "payment_id"), _signed(d, "amount_minor")) if isinstance(d, Mapping)
                     else _bad_deposit(d) for d in raw)
    composition = PayoutComposition(gross, fees, net, xero_invoice, deposits)
    if xero_invoice + composition.deposits_total != gross:
        raise _PayloadError(f"gross {gross} != xero_invoice_minor {xero_invoice} + deposits "
                            f"{composition.deposits_total}")
    return composition


def _bad_deposit(value: object) -> tuple[str, int]:
    raise _PayloadError(f"a deposit must be an object with payment_id and amount_minor, got {value!r}")


# --- one planner per outbox kind -------------------------------------------------------------


def _plan_payment(item: OutboxItem, accounts: AccountSetup) -> list[PlanResult]:
    p = item.payload
    payment_id = _str(p, "payment_id")
    invoice_id = _str(p, "invoice_xero_id")
    currency = _str(p, "currency")
    amount = _positive(p, "amount_minor")
    paid_on = _date(p, "paid_on")
    if not accounts.payments_account_id:
        return [Waiting(item.outbox_id, "accounts not set up: payments account")]
    return [
        PaymentWrite(
            outbox_id=item.outbox_id,
            invoice_id=invoice_id,
            account_id=accounts.payments_account_id,
            date=paid_on,
            amount=from_minor(amount, currency),
            reference=payment_id,
            idempotency_key=write_key(item.idempotency_key),
        )
    ]


def _plan_deposit(item: OutboxItem, accounts: AccountSetup) -> list[PlanResult]:
    p = item.payload
    payment_id = _str(p, "payment_id")
    invoice_number = _str(p, "invoice_number")
    currency = _str(p, "currency")
    amount = _positive(p, "amount_minor")
    paid_on = _date(p, "paid_on")
    missing = _missing_setup(accounts, "payments account type", "clearing contact", "income account")
    if accounts.payments_account_is_bank:
        bank_account = accounts.payments_account_id
        missing += [] if bank_account else ["payments account"]
    else:
        bank_account = accounts.deposit_account_id
        missing += [] if bank_account else ["deposit account"]
    if missing:
        return [Waiting(item.outbox_id, "accounts not set up: " + ", ".join(missing))]
    assert bank_account and accounts.clearing_contact_id and accounts.income_account_code
    return [
        BankTransactionWrite(
            outbox_id=item.outbox_id,
            type="RECEIVE",
            bank_account_id=bank_account,
            contact_id=accounts.clearing_contact_id,
            date=paid_on,
            reference=f"{invoice_number} {payment_id}",
            lines=(
                Line(
                    f"Payment {payment_id} on invoice {invoice_number}",
                    accounts.income_account_code,
                    from_minor(amount, currency),
                ),
            ),
            idempotency_key=write_key(item.idempotency_key),
        )
    ]


def _plan_payout(item: OutboxItem, accounts: AccountSetup) -> list[PlanResult]:
    """SPEC section 4. Non-BANK payments account: one RECEIVE into the deposit account with a
    line coded to the payments account for the money on Xero invoices (only that money is in the
    payments account; the stand-alone deposits are already in the deposit account) and the fees
    as a negative line, or as a SPEND from the deposit account when the partner chose that or the
    RECEIVE would not stay positive. BANK payments account: a BankTransfer of the net plus a SPEND
    of the fees, both from the payments account. May be empty: a payout of stand-alone deposits
    only, without fees, has nothing left to move."""
    p = item.payload
    payout_id = _str(p, "payout_id")
    currency = _str(p, "currency")
    paid_out_on = _date(p, "paid_out_on")
    _str_list(p, "deposit_payment_ids")  # shape check only; the diff lists them per payout
    c = payout_composition(p)
    fees, moved = c.fees, c.xero_invoice

    missing = _missing_setup(accounts, "payments account type", "clearing contact")
    if not accounts.payments_account_id:
        missing.append("payments account")
    if not accounts.deposit_account_id:
        missing.append("deposit account")
    if fees and not accounts.fees_account_code:
        missing.append("fees account")
    if accounts.payments_account_is_bank is False and moved and not accounts.payments_account_code:
        missing.append("payments account code")
    if missing:
        return [Waiting(item.outbox_id, "accounts not set up: " + ", ".join(missing))]
    assert accounts.payments_account_id and accounts.deposit_account_id
    assert accounts.clearing_contact_id

    key = item.idempotency_key
    def fees_line(sign: int) -> Line:
        code = accounts.fees_account_code or ""  # checked above whenever fees > 0
        return Line(f"Fees on payout {payout_id}", code, sign * from_minor(fees, currency))

    def bank_tx(type_: str, bank_account: str, lines: tuple[Line, ...], reference: str,
                suffix: str) -> BankTransactionWrite:
        return BankTransactionWrite(
            outbox_id=item.outbox_id, type=type_, bank_account_id=bank_account,
            contact_id=accounts.clearing_contact_id or "", date=paid_out_on, reference=reference,
            lines=lines, idempotency_key=write_key(key, suffix),
        )

    if accounts.payments_account_is_bank:
        # Transfers only work between BANK accounts; the net is what the bank feed shows.
        writes: list[PlanResult] = [
            BankTransferWrite(
                outbox_id=item.outbox_id,
                from_account_id=accounts.payments_account_id,
                to_account_id=accounts.deposit_account_id,
                amount=from_minor(c.net, currency),
                date=paid_out_on,
                reference=payout_id,
                idempotency_key=write_key(key, "transfer"),
            )
        ]
        if fees:
            writes.append(bank_tx("SPEND", accounts.payments_account_id, (fees_line(1),),
                                  f"{payout_id} fees", "fees"))
        return writes

    code = accounts.payments_account_code or ""
    receive: list[Line] = []
    spend: list[Line] = []
    if moved > 0:
        receive.append(Line(f"Payout {payout_id}", code, from_minor(moved, currency)))
    elif moved < 0:
        # Refunds taken back exceed this payout's money on Xero invoices: the difference goes
        # back into the payments account (whose payments the refunds deleted).
        spend.append(Line(f"Refunds taken back by payout {payout_id}", code,
                          from_minor(-moved, currency)))
    if fees:
        if not accounts.fees_as_separate_spend and moved > fees:
            receive.append(fees_line(-1))
        else:
            spend.append(fees_line(1))
    writes = []
    if receive:
        writes.append(bank_tx("RECEIVE", accounts.deposit_account_id, tuple(receive), payout_id,
                              "deposit" if spend else ""))
    if spend:
        writes.append(bank_tx("SPEND", accounts.deposit_account_id, tuple(spend),
                              f"{payout_id} fees", "fees"))
    return writes


def _plan_delete_payment(item: OutboxItem, accounts: AccountSetup) -> list[PlanResult]:
    _str(item.payload, "payment_id")
    xero_id = _str(item.payload, "xero_payment_id")
    return [DeletePaymentWrite(item.outbox_id, xero_id, write_key(item.idempotency_key))]


def _plan_delete_deposit(item: OutboxItem, accounts: AccountSetup) -> list[PlanResult]:
    _str(item.payload, "payment_id")
    bank_transaction_id = _str(item.payload, "bank_transaction_id")
    return [
        DeleteBankTransactionWrite(
            item.outbox_id, bank_transaction_id, write_key(item.idempotency_key)
        )
    ]


_PLANNERS = {
    "payment": _plan_payment,
    "deposit": _plan_deposit,
    "payout": _plan_payout,
    "delete_payment": _plan_delete_payment,
    "delete_deposit": _plan_delete_deposit,
}


# --- payload and setup checks ----------------------------------------------------------------


def _missing_setup(accounts: AccountSetup, *needs: str) -> list[str]:
    checks = {
        "payments account type": accounts.payments_account_is_bank is not None,
        "clearing contact": bool(accounts.clearing_contact_id),
        "income account": bool(accounts.income_account_code),
    }
    return [need for need in needs if not checks[need]]


def _str(payload: Mapping[str, object], field: str) -> str:
    value = payload.get(field)
    if not isinstance(value, str) or not value:
        raise _PayloadError(f"{field} must be a non-empty string, got {value!r}")
    return value


def _amount(payload: Mapping[str, object], field: str) -> int:
    value = payload.get(field)
    # bool is an int subclass; a float here would mean someone put inexact money in JSON.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _PayloadError(f"{field} must be integer minor units, got {value!r}")
    if value < 0:
        raise _PayloadError(f"{field} must not be negative, got {value}")
    return value


def _signed(payload: Mapping[str, object], field: str) -> int:
    value = payload.get(field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _PayloadError(f"{field} must be integer minor units, got {value!r}")
    return value


def _positive(payload: Mapping[str, object], field: str) -> int:
    value = _amount(payload, field)
    if value == 0:
        raise _PayloadError(f"{field} must be positive, got 0")
    return value


def _date(payload: Mapping[str, object], field: str) -> date:
    value = payload.get(field)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _PayloadError(f"{field} must be an ISO date, got {value!r}") from None


def _str_list(payload: Mapping[str, object], field: str) -> Sequence[str]:
    value = payload.get(field, [])
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _PayloadError(f"{field} must be a list of payment ids, got {value!r}")
    return value
