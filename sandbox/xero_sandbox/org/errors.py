"""How an organisation refuses a change: `ValidationError` (Xero's message texts, some of them
named here because tests match them word for word) and `NotFound` for an unknown id."""

from __future__ import annotations

MSG_EXCEEDS = "Payment amount exceeds the amount outstanding on this document"
MSG_LOCKED = "This document cannot be edited as it has a payment or credit note allocated to it."
MSG_PAID_OFF = "The invoice you are trying to allocate to has already been paid off"
MSG_CREDIT_EXCEEDS = "{kind} cannot be allocated as amount is greater than amount outstanding"
MSG_TRANSFER_BANK = ("Transfers can only be made between BANK type accounts. CURRENT type asset "
                     "accounts cannot be used in bank transfers")


class ValidationError(Exception):
    """A Xero validation failure; `messages` become the element's ValidationErrors."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class NotFound(Exception):
    """An id that does not exist in this organisation."""
