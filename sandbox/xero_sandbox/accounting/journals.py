"""Manual journals: list, get and create."""

from __future__ import annotations

from typing import Any

from flask import Response

from xero_sandbox import xero_json as xj
from xero_sandbox.accounting.blueprint import accounting
from xero_sandbox.accounting.reads import list_records
from xero_sandbox.accounting.responses import envelope
from xero_sandbox.accounting.writes import (
    element_date, submitted_elements, summarize_errors, write_batch,
)
from xero_sandbox.context import current_org


@accounting.get("/ManualJournals")
def list_manual_journals() -> Response:
    org = current_org()
    fields = {"Date": lambda j: j.date, "Status": lambda j: j.status,
              "Narration": lambda j: j.narration, "UpdatedDateUTC": lambda j: j.updated,
              "ManualJournalID": lambda j: j.manual_journal_id}
    with org.lock:
        rows, pagination = list_records(org.manual_journals.values(), fields,
                                        lambda j: j.manual_journal_id)
        return envelope("ManualJournals", [xj.manual_journal_json(j) for j in rows], pagination)


@accounting.get("/ManualJournals/<manual_journal_id>")
def get_manual_journal(manual_journal_id: str) -> Response:
    org = current_org()
    with org.lock:
        return envelope("ManualJournals", [xj.manual_journal_json(org.get_manual_journal(manual_journal_id))])


@accounting.route("/ManualJournals", methods=["PUT", "POST"])
def write_manual_journals() -> Response:
    org = current_org()

    def apply(el: dict[str, Any]) -> dict[str, Any]:
        journal = org.create_manual_journal(
            narration=el.get("Narration") or "", date=element_date(el, "Date", org.now().date()),
            lines=el.get("JournalLines") or [], status=el.get("Status") or "DRAFT",
            line_amount_types=el.get("LineAmountTypes") or "NoTax")
        return xj.manual_journal_json(journal)

    with org.lock:
        return write_batch("ManualJournals", submitted_elements("ManualJournals"), apply,
                           summarize_errors())
