"""XeroClient: one tenant's reads and writes through xero-python, under one retry policy.

Reads page with `page`, `pageSize=1000` and `order=UpdatedDateUTC ASC` (stable while paging) and
stop on `pagination.pageCount` (or an empty page, whatever pageCount claims), so a slice of n records costs max(1, ceil(n/1000)) calls. The raw
JSON is parsed by `parse.py` (Decimal money, tolerant enums, drift notes). Tokens come from the
TokenStore; refreshes go through `TokenStore.refresh`, so only one worker rotates a token set.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from xero_python.accounting import AccountingApi
from xero_python.accounting.models import PaymentDelete

from xero_sync.config import XeroEndpoints
from xero_sync.core.errors import MalformedXeroPayload, NeedsReauth, XeroNotFound
from xero_sync.xero.oauth import OAuthApp
from xero_sync.xero.parse import loads, parse_collection
from xero_sync.xero.rate_budget import RateBudget, budget_for
from xero_sync.core.records import ContactRecord, DriftNote, PaymentRecord
from xero_sync.xero.reports import TrialBalance, parse_trial_balance
from xero_sync.xero.retry import HttpAnswer, RetryPolicy
from xero_sync.core.tokens import REFRESH_MARGIN_SECONDS, TokenSet, TokenStore
from xero_sync.xero.transport import Timeout, call_sdk, check_timeout, make_api_client, sdk_token_dict, send_raw
from xero_sync.xero.windows import DateWindow, ModifiedSince
from xero_sync.xero.writes import (
    BankTransactionRecord,
    BankTransferRecord,
    NewBankTransaction,
    NewBankTransfer,
    NewPayment,
    PaymentResult,
    bank_transaction_body,
    bank_transfer_body,
    check_idempotency_key,
    contact_body,
    dumps_exact,
    first_id,
    name_where,
    parse_bank_transaction,
    parse_bank_transfer,
    payment_results,
    payments_body,
    reference_where,
)

PAGE_SIZE = 1000
STABLE_ORDER = "UpdatedDateUTC ASC"
REAUTH_AFTER_401 = "Xero refused a freshly refreshed token (401): reconnect Xero."


@dataclass
class ReadResult:
    records: list[Any]
    drift: list[DriftNote] = field(default_factory=list)
    calls: int = 0


# A watermark may be given as an aware datetime or a ModifiedSince.
datetime_or_ms = dt.datetime | ModifiedSince | None


def _since(modified_since: datetime_or_ms) -> dt.datetime | None:
    if modified_since is None:
        return None
    ms = modified_since if isinstance(modified_since, ModifiedSince) else ModifiedSince(modified_since)
    return ms.header_value()


DEFAULT_TIMEOUT: Timeout = (5, 60)  # (connect, read) seconds per attempt


def longest_write_seconds(timeout: Timeout = DEFAULT_TIMEOUT) -> float:
    """How long one write call with the default retry policy can last at most (retry.py)."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return RetryPolicy(None, None).longest_write_seconds(float(connect + read))


class XeroClient:
    def __init__(
        self,
        *,
        endpoints: XeroEndpoints,
        tenant_id: str,
        token_store: TokenStore,
        token_set_id: int,
        oauth_app: OAuthApp,
        budget: RateBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.endpoints = endpoints
        self.tenant_id = tenant_id
        self.token_store = token_store
        self.token_set_id = token_set_id
        self.oauth_app = oauth_app
        self.clock = clock
        self.timeout = check_timeout(timeout)
        self.budget = budget or budget_for(tenant_id, clock=clock, sleep=sleep)
        self._policy = RetryPolicy(tenant_id, self.budget, sleep=sleep, clock=clock)
        self._tokens: TokenSet | None = None
        self._token_lock = threading.Lock()
        self._api_client = make_api_client(self._sdk_token)
        self._accounting = AccountingApi(self._api_client, base_url=endpoints.api_url)
        self._calls = 0
        self._calls_lock = threading.Lock()

    def longest_write_seconds(self) -> float:
        """How long one write call can last at most, retries included (retry.py)."""
        connect, read = self.timeout if isinstance(self.timeout, tuple) else (self.timeout, self.timeout)
        return self._policy.longest_write_seconds(float(connect + read))

    def __repr__(self) -> str:
        return f"XeroClient(tenant_id={self.tenant_id!r}, api_url={self.endpoints.api_url!r})"

    # --- tokens -----------------------------------------------------------------------------------

    def _fresh_tokens(self) -> TokenSet:
        with self._token_lock:
            if self._tokens is None:
                self._tokens = self.token_store.load(self.token_set_id)
            if self._tokens.expires_within(REFRESH_MARGIN_SECONDS, self.clock()):
                self._tokens = self.token_store.refresh(self.token_set_id, self.oauth_app.refresh)
            return self._tokens

    def _force_refresh(self) -> None:
        with self._token_lock:
            stale = self._tokens
            kwargs = {"stale": stale} if stale is not None else {}
            self._tokens = self.token_store.refresh(
                self.token_set_id, self.oauth_app.refresh, force=True, **kwargs
            )

    def _sdk_token(self) -> dict:
        tokens = self._tokens or self._fresh_tokens()
        return sdk_token_dict(tokens.access_token, tokens.scope, tokens.token_type)

    # --- one call under the policy ---------------------------------------------------------------

    def _run(self, call: str, send: Callable[[], HttpAnswer], *, is_write: bool = False) -> HttpAnswer:
        def attempt() -> HttpAnswer:
            self._fresh_tokens()
            with self._calls_lock:
                self._calls += 1
            return send()

        try:
            return self._policy.run(call, attempt, is_write=is_write, refresh=self._force_refresh)
        except NeedsReauth as exc:
            if exc.status == 401:  # refreshed and still refused: the connection needs a human
                mark = getattr(self.token_store, "mark_needs_reauth", None)
                if mark is not None:
                    mark(self.token_set_id, REAUTH_AFTER_401)
            raise

    def _get(self, call: str, method: Callable[..., Any], **kwargs: Any) -> Any:
        answer = self._run(
            call, lambda: call_sdk(method, self.tenant_id, timeout=self.timeout, **kwargs)
        )
        try:
            return loads(answer.body)
        except ValueError:
            raise MalformedXeroPayload(call, None, "<body>", "response is not JSON") from None

    def _send_json(self, call: str, method: str, path: str, body: dict, idempotency_key: str,
                   query: str = "") -> Any:
        check_idempotency_key(idempotency_key)
        raw = dumps_exact(body)
        url = f"{self.endpoints.api_url}{path}{query}"

        def send() -> HttpAnswer:
            tokens = self._tokens or self._fresh_tokens()
            headers = {
                "Authorization": f"{tokens.token_type} {tokens.access_token}",
                "xero-tenant-id": self.tenant_id,
                "Idempotency-Key": idempotency_key,
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            return send_raw(self._api_client, method, url, headers=headers, body=raw, timeout=self.timeout)

        answer = self._run(call, send, is_write=True)
        try:
            return loads(answer.body) if answer.body.strip() else {}
        except ValueError:
            raise MalformedXeroPayload(call, None, "<body>", "response is not JSON") from None

    # --- reads ------------------------------------------------------------------------------------

    def _paged(self, key: str, method: Callable[..., Any], *, where: str | None,
               modified_since: datetime_or_ms, **extra: Any) -> ReadResult:
        result = ReadResult(records=[])
        since = _since(modified_since)
        page = 1
        while True:
            kwargs: dict[str, Any] = dict(page=page, page_size=PAGE_SIZE, order=STABLE_ORDER, **extra)
            if where:
                kwargs["where"] = where
            if since is not None:
                kwargs["if_modified_since"] = since
            payload = self._get(f"GET /{key} page {page}", method, **kwargs)
            result.calls += 1
            records, notes, pagination = parse_collection(key, payload)
            result.records.extend(records)
            result.drift.extend(notes)
            if not records:  # an over-stated pageCount must not spend the day's calls
                return result
            page_count = pagination.get("pageCount") if pagination else None
            if isinstance(page_count, int) and not isinstance(page_count, bool):
                if page >= page_count:
                    return result
            elif len(records) < PAGE_SIZE:  # no pagination block: a short page is the last
                return result
            page += 1

    def organisation(self) -> ReadResult:
        payload = self._get("GET /Organisation", self._accounting.get_organisations)
        records, notes, _ = parse_collection("Organisations", payload)
        return ReadResult(records=records, drift=notes, calls=1)

    def accounts(self) -> ReadResult:
        payload = self._get("GET /Accounts", self._accounting.get_accounts)
        records, notes, _ = parse_collection("Accounts", payload)
        return ReadResult(records=records, drift=notes, calls=1)

    def contacts(self, window: DateWindow | None = None, modified_since: datetime_or_ms = None) -> ReadResult:
        # Contacts have no Date: a window applies to UpdatedDateUTC.
        return self._paged(
            "Contacts", self._accounting.get_contacts,
            where=window.where("UpdatedDateUTC") if window else None,
            modified_since=modified_since, include_archived=True,
        )

    def invoices(self, window: DateWindow | None = None, modified_since: datetime_or_ms = None,
                 statuses: list[str] | None = None) -> ReadResult:
        extra = {"statuses": list(statuses)} if statuses else {}
        return self._paged(
            "Invoices", self._accounting.get_invoices,
            where=window.where() if window else None, modified_since=modified_since, **extra,
        )

    def payments(self, window: DateWindow | None = None, modified_since: datetime_or_ms = None) -> ReadResult:
        return self._paged(
            "Payments", self._accounting.get_payments,
            where=window.where() if window else None, modified_since=modified_since,
        )

    def invoices_by_ids(self, invoice_ids: list[str]) -> ReadResult:
        """These invoices (GET /Invoices?IDs=...), e.g. their new AmountDue right after a write."""
        if not invoice_ids:
            return ReadResult(records=[])
        return self._paged("Invoices", self._accounting.get_invoices, where=None,
                           modified_since=None, i_ds=list(invoice_ids))

    def credit_notes(self, window: DateWindow | None = None, modified_since: datetime_or_ms = None) -> ReadResult:
        return self._paged(
            "CreditNotes", self._accounting.get_credit_notes,
            where=window.where() if window else None, modified_since=modified_since,
        )

    def first_invoice_date(self) -> dt.date | None:
        """Date of the organisation's earliest invoice, in one call (None for an empty org)."""
        payload = self._get(
            "GET /Invoices (first)", self._accounting.get_invoices,
            order="Date ASC", page=1, page_size=1,
        )
        records, _, _ = parse_collection("Invoices", payload)
        return min((r.date for r in records), default=None)

    def trial_balance(self, as_of: dt.date) -> TrialBalance:
        """GET /Reports/TrialBalance?date=as_of (one call): every account's balance."""
        payload = self._get("GET /Reports/TrialBalance", self._accounting.get_report_trial_balance,
                            date=as_of)
        return parse_trial_balance(payload, as_of)

    def stats(self) -> dict:
        """Calls made by this client and the tenant's budget, for run metadata."""
        with self._calls_lock:
            calls = self._calls
        return {"calls": calls, "budget": self.budget.snapshot()}

    # --- writes -----------------------------------------------------------------------------------

    def create_payments(self, payments: list[NewPayment], idempotency_key: str) -> list[PaymentResult]:
        """PUT /Payments?summarizeErrors=false: one result per payment, in order (≤50)."""
        body = payments_body(payments)
        payload = self._send_json("PUT /Payments", "PUT", "/Payments", body, idempotency_key,
                                  query="?summarizeErrors=false")
        return payment_results(payload, payments)

    def create_bank_transaction(self, tx: NewBankTransaction, idempotency_key: str) -> str:
        payload = self._send_json("PUT /BankTransactions", "PUT", "/BankTransactions",
                                  bank_transaction_body(tx), idempotency_key)
        return first_id(payload, "BankTransactions", "BankTransactionID")

    def create_bank_transfer(self, transfer: NewBankTransfer, idempotency_key: str) -> str:
        payload = self._send_json("PUT /BankTransfers", "PUT", "/BankTransfers",
                                  bank_transfer_body(transfer), idempotency_key)
        return first_id(payload, "BankTransfers", "BankTransferID")

    def delete_payment(self, payment_id: str, idempotency_key: str) -> None:
        """POST /Payments/{id} with Status DELETED (Xero has no HTTP DELETE for payments)."""
        check_idempotency_key(idempotency_key)
        self._run(
            "POST /Payments/{id} (delete)",
            lambda: call_sdk(self._accounting.delete_payment, self.tenant_id, payment_id,
                             PaymentDelete(status="DELETED"), idempotency_key=idempotency_key,
                             timeout=self.timeout),
            is_write=True,
        )

    def delete_bank_transaction(self, bank_transaction_id: str, idempotency_key: str) -> None:
        body = {"BankTransactions": [{"BankTransactionID": bank_transaction_id, "Status": "DELETED"}]}
        self._send_json("POST /BankTransactions/{id} (delete)", "POST",
                        f"/BankTransactions/{bank_transaction_id}", body, idempotency_key)

    def find_payments(self, reference: str) -> list[PaymentRecord]:
        """Payments with this Reference (one call), to settle an OutcomeUnknown."""
        payload = self._get("GET /Payments (by reference)", self._accounting.get_payments,
                            where=reference_where(reference), page=1, page_size=PAGE_SIZE)
        records, _, _ = parse_collection("Payments", payload)
        return records

    def find_payments_by_references(self, references: list[str]) -> list[PaymentRecord]:
        """Payments whose Reference is any of `references` (one call; keep it to ~25 so the
        query string stays short), to settle a lost PUT /Payments batch without a call per row."""
        if not references:
            return []
        where = " OR ".join(reference_where(r) for r in references)
        payload = self._get("GET /Payments (by references)", self._accounting.get_payments,
                            where=where, page=1, page_size=PAGE_SIZE)
        records, _, _ = parse_collection("Payments", payload)
        return records

    def find_bank_transactions(self, reference: str) -> list[BankTransactionRecord]:
        payload = self._get("GET /BankTransactions (by reference)",
                            self._accounting.get_bank_transactions,
                            where=reference_where(reference), page=1, page_size=PAGE_SIZE)
        items = payload.get("BankTransactions") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise MalformedXeroPayload("BankTransaction", None, "BankTransactions", "missing list")
        return [parse_bank_transaction(item) for item in items]

    def find_bank_transactions_by_references(self, references: list[str]) -> list[BankTransactionRecord]:
        """Bank transactions whose Reference is any of `references` (one call; keep it to ~25 so
        the query string stays short), e.g. the reconciliation's targeted pull of payouts."""
        if not references:
            return []
        where = " OR ".join(reference_where(r) for r in references)
        payload = self._get("GET /BankTransactions (by references)",
                            self._accounting.get_bank_transactions,
                            where=where, page=1, page_size=PAGE_SIZE)
        items = payload.get("BankTransactions") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise MalformedXeroPayload("BankTransaction", None, "BankTransactions", "missing list")
        return [parse_bank_transaction(item) for item in items]

    def find_bank_transfers_by_references(self, references: list[str]) -> list[BankTransferRecord]:
        """Bank transfers whose Reference is any of `references` (one call; ~25 at most)."""
        if not references:
            return []
        where = " OR ".join(reference_where(r) for r in references)
        payload = self._get("GET /BankTransfers (by references)",
                            self._accounting.get_bank_transfers, where=where)
        items = payload.get("BankTransfers") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise MalformedXeroPayload("BankTransfer", None, "BankTransfers", "missing list")
        return [parse_bank_transfer(item) for item in items]

    def find_bank_transfers(self, reference: str) -> list[BankTransferRecord]:
        """Bank transfers with this Reference (one call), to settle an OutcomeUnknown."""
        payload = self._get("GET /BankTransfers (by reference)",
                            self._accounting.get_bank_transfers, where=reference_where(reference))
        items = payload.get("BankTransfers") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise MalformedXeroPayload("BankTransfer", None, "BankTransfers", "missing list")
        return [parse_bank_transfer(item) for item in items]

    # --- by id: the evidence a repair needs (a listing that does not show a write is none) -------

    def payment_by_id(self, payment_id: str) -> PaymentRecord | None:
        """GET /Payments/{id}: the payment as Xero holds it now, DELETED included; None when Xero
        does not show it (unknown id, or not visible yet)."""
        try:
            payload = self._get("GET /Payments/{id}", self._accounting.get_payment,
                                payment_id=payment_id)
        except XeroNotFound:
            return None
        records, _, _ = parse_collection("Payments", payload)
        return records[0] if records else None

    def bank_transaction_by_id(self, bank_transaction_id: str) -> BankTransactionRecord | None:
        """GET /BankTransactions/{id}, DELETED and VOIDED included; None when not shown."""
        try:
            payload = self._get("GET /BankTransactions/{id}", self._accounting.get_bank_transaction,
                                bank_transaction_id=bank_transaction_id)
        except XeroNotFound:
            return None
        items = payload.get("BankTransactions") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise MalformedXeroPayload("BankTransaction", None, "BankTransactions", "missing list")
        return parse_bank_transaction(items[0]) if items else None

    def bank_transfer_by_id(self, bank_transfer_id: str) -> BankTransferRecord | None:
        """GET /BankTransfers/{id}; None when Xero does not show it (transfers have no status:
        a deleted one is gone)."""
        try:
            payload = self._get("GET /BankTransfers/{id}", self._accounting.get_bank_transfer,
                                bank_transfer_id=bank_transfer_id)
        except XeroNotFound:
            return None
        items = payload.get("BankTransfers") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise MalformedXeroPayload("BankTransfer", None, "BankTransfers", "missing list")
        return parse_bank_transfer(items[0]) if items else None

    def receives_into(self, bank_account_id: str, since: dt.date, until: dt.date, *,
                      max_pages: int = 5) -> list[BankTransactionRecord]:
        """Live RECEIVE bank transactions into one account dated within [since, until] (paged,
        at most `max_pages` pages): what the deposit account received around some payouts."""
        if '"' in bank_account_id or "\\" in bank_account_id:
            raise ValueError(f"account id {bank_account_id!r} contains a quote or backslash")
        where = (f'BankAccount.AccountID==Guid("{bank_account_id}") AND Type=="RECEIVE" AND '
                 f'Status=="AUTHORISED" AND Date>=DateTime({since.year},{since.month},{since.day})'
                 f' AND Date<=DateTime({until.year},{until.month},{until.day})')
        found: list[BankTransactionRecord] = []
        for page in range(1, max_pages + 1):
            payload = self._get("GET /BankTransactions (receives into an account)",
                                self._accounting.get_bank_transactions, where=where, page=page,
                                page_size=PAGE_SIZE)
            items = payload.get("BankTransactions") if isinstance(payload, dict) else None
            if not isinstance(items, list):
                raise MalformedXeroPayload("BankTransaction", None, "BankTransactions", "missing list")
            found += [parse_bank_transaction(item) for item in items]
            if len(items) < PAGE_SIZE:
                break
        return found

    def create_contact(self, name: str, idempotency_key: str) -> str:
        """PUT /Contacts with one contact (e.g. the clearing contact of stand-alone deposits)."""
        payload = self._send_json("PUT /Contacts", "PUT", "/Contacts", contact_body(name),
                                  idempotency_key)
        return first_id(payload, "Contacts", "ContactID")

    def find_contacts(self, name: str) -> list[ContactRecord]:
        """Contacts named exactly `name` (one call), so a contact is created only once."""
        payload = self._get("GET /Contacts (by name)", self._accounting.get_contacts,
                            where=name_where(name), include_archived=True, page=1)
        records, _, _ = parse_collection("Contacts", payload)
        return records
