"""Xero's manual journal rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from xero_sandbox.org.books import Books
from xero_sandbox.org.errors import ValidationError
from xero_sandbox.org.records import ZERO, ManualJournal
from xero_sandbox.xero_json import money


class JournalRules(Books):
    """Manual journal rules; part of `Organisation`."""

    def create_manual_journal(self, *, narration: str, date: dt.date,
                              lines: Iterable[Mapping[str, Any]], status: str = "POSTED",
                              line_amount_types: str = "NoTax") -> ManualJournal:
        """Journal lines must name a valid account code and sum to zero when POSTED."""
        with self.lock:
            if not narration:
                raise ValidationError("Narration must be specified")
            if status not in ("DRAFT", "POSTED"):
                raise ValidationError(f"A new manual journal cannot be created with status {status}")
            built: list[dict[str, Any]] = []
            for raw in lines:
                code = raw.get("AccountCode") or (
                    self.resolve_account(account_id=raw["AccountID"]).code if raw.get("AccountID") else "")
                if not code or self.account_by_code(code) is None:
                    raise ValidationError(f"Account code '{code}' is not a valid code for this document.")
                built.append({"LineAmount": money(Decimal(str(raw.get("LineAmount", 0)))),
                              "AccountCode": code, "Description": raw.get("Description") or "",
                              "TaxType": raw.get("TaxType") or "NONE", "TaxAmount": ZERO,
                              "IsBlank": False})
            if len(built) < 2:
                raise ValidationError("A manual journal needs at least two lines")
            if status == "POSTED" and sum(line["LineAmount"] for line in built) != 0:
                raise ValidationError("The total debits must equal the total credits")
            journal = ManualJournal(self.new_id(), narration, date, built, self.now(), status,
                                    line_amount_types)
            self.manual_journals[journal.manual_journal_id] = journal
            return journal
