"""`Organisation`: one Xero organisation, its books with every family of Xero's rules."""

from __future__ import annotations

from xero_sandbox.org.banking import BankingRules
from xero_sandbox.org.credits import CreditRules
from xero_sandbox.org.invoices import InvoiceRules
from xero_sandbox.org.journals import JournalRules
from xero_sandbox.org.payments import PaymentRules


class Organisation(InvoiceRules, PaymentRules, CreditRules, BankingRules, JournalRules):
    """In-memory state of one Xero organisation and the rules Xero applies to it."""
