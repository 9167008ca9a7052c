"""Bank transactions (list, get, create, delete) and bank transfers (list, get, create)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Response

from xero_sandbox import xero_json as xj
from xero_sandbox.accounting.blueprint import accounting
from xero_sandbox.accounting.reads import list_records
from xero_sandbox.accounting.responses import envelope
from xero_sandbox.accounting.writes import (
    element_date, element_ref, submitted_elements, summarize_errors, write_batch,
)
from xero_sandbox.context import current_org
from xero_sandbox.org import Organisation, ValidationError


_BANK_TXN_FIELDS: dict[str, Callable[[Any], Any]] = {
    "BankTransactionID": lambda t: t.bank_transaction_id, "Type": lambda t: t.type,
    "Date": lambda t: t.date, "Status": lambda t: t.status, "Reference": lambda t: t.reference,
    "Total": lambda t: t.total, "IsReconciled": lambda t: t.is_reconciled,
    "BankAccount.AccountID": lambda t: t.bank_account_id,
    "Contact.ContactID": lambda t: t.contact_id, "UpdatedDateUTC": lambda t: t.updated,
}


@accounting.get("/BankTransactions")
def list_bank_transactions() -> Response:
    org = current_org()
    with org.lock:
        rows, pagination = list_records(org.bank_transactions.values(), _BANK_TXN_FIELDS,
                                        lambda t: t.bank_transaction_id)
        return envelope("BankTransactions", [xj.bank_transaction_json(t, org) for t in rows],
                        pagination)


@accounting.get("/BankTransactions/<bank_transaction_id>")
def get_bank_transaction(bank_transaction_id: str) -> Response:
    org = current_org()
    with org.lock:
        txn = org.get_bank_transaction(bank_transaction_id)
        return envelope("BankTransactions", [xj.bank_transaction_json(txn, org)])


def _apply_bank_transaction(org: Organisation, el: Mapping[str, Any]) -> dict[str, Any]:
    bank, contact = element_ref(el, "BankAccount"), element_ref(el, "Contact")
    if not el.get("Type"):
        raise ValidationError("BankTransaction Type is required")
    cid = contact.get("ContactID") or (
        org.resolve_contact(name=contact["Name"]).contact_id if contact.get("Name") else None)
    if not cid:
        raise ValidationError("A Contact must be specified for this type of transaction")
    txn = org.create_bank_transaction(
        type=el["Type"], bank_account_id=bank.get("AccountID"), bank_account_code=bank.get("Code"),
        contact_id=cid, lines=el.get("LineItems") or [],
        date=element_date(el, "Date", org.now().date()),
        reference=el.get("Reference") or "", is_reconciled=bool(el.get("IsReconciled")),
        line_amount_types=el.get("LineAmountTypes") or "NoTax")
    return xj.bank_transaction_json(txn, org)


@accounting.route("/BankTransactions", methods=["PUT", "POST"])
def write_bank_transactions() -> Response:
    org = current_org()
    with org.lock:
        return write_batch("BankTransactions", submitted_elements("BankTransactions"),
                           lambda el: _apply_bank_transaction(org, el), summarize_errors())


@accounting.post("/BankTransactions/<bank_transaction_id>")
def delete_bank_transaction(bank_transaction_id: str) -> Response:
    org = current_org()
    with org.lock:
        txn = org.get_bank_transaction(bank_transaction_id)

        def apply(el: dict[str, Any]) -> dict[str, Any]:
            if str(el.get("Status", "")).upper() != "DELETED":
                raise ValidationError("Only Status DELETED is supported when updating a bank "
                                      "transaction in the sandbox")
            return xj.bank_transaction_json(org.delete_bank_transaction(txn.bank_transaction_id), org)

        return write_batch("BankTransactions", submitted_elements("BankTransactions")[:1], apply,
                           True)


@accounting.get("/BankTransfers")
def list_bank_transfers() -> Response:
    org = current_org()
    fields = {"Date": lambda b: b.date, "Reference": lambda b: b.reference,
              "Amount": lambda b: b.amount, "CreatedDateUTC": lambda b: b.created,
              "UpdatedDateUTC": lambda b: b.created, "BankTransferID": lambda b: b.bank_transfer_id,
              "FromBankAccount.AccountID": lambda b: b.from_account_id,
              "ToBankAccount.AccountID": lambda b: b.to_account_id}
    with org.lock:
        rows, _ = list_records(org.bank_transfers.values(), fields, lambda b: b.bank_transfer_id,
                               paged=False)
        return envelope("BankTransfers", [xj.bank_transfer_json(b, org) for b in rows])


@accounting.get("/BankTransfers/<bank_transfer_id>")
def get_bank_transfer(bank_transfer_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("BankTransfers", [xj.bank_transfer_json(org.get_bank_transfer(bank_transfer_id), org)])


@accounting.put("/BankTransfers")
def write_bank_transfers() -> Response:
    org = current_org()

    def apply(el: dict[str, Any]) -> dict[str, Any]:
        src, dst = element_ref(el, "FromBankAccount"), element_ref(el, "ToBankAccount")
        if el.get("Amount") is None:
            raise ValidationError("Amount is required")
        transfer = org.create_bank_transfer(
            amount=xj.parse_decimal(el["Amount"], "Amount"),
            date=element_date(el, "Date", org.now().date()),
            from_account_id=src.get("AccountID"), from_account_code=src.get("Code"),
            to_account_id=dst.get("AccountID"), to_account_code=dst.get("Code"),
            reference=el.get("Reference") or "", from_is_reconciled=bool(el.get("FromIsReconciled")),
            to_is_reconciled=bool(el.get("ToIsReconciled")))
        return xj.bank_transfer_json(transfer, org)

    with org.lock:
        return write_batch("BankTransfers", submitted_elements("BankTransfers"), apply,
                           summarize_errors())
