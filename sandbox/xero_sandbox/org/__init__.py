"""One Xero organisation held in memory, with the rules Xero applies to it.

State is plain `__slots__` dataclasses behind one RLock per organisation. Every change stamps
`updated` with the clock (an invoice also bumps when a payment or allocation lands on it) and
keeps two invoice indexes current: by (UpdatedDateUTC, id) and by (Date, id), so list reads over
100k invoices answer from a slice instead of a scan. Rule violations raise `ValidationError` with
Xero's message texts; unknown ids raise `NotFound`. `on_change(category, event_type, id)` fires
after INVOICE / CONTACT / CREDITNOTE changes (the server turns these into webhooks).

records.py holds the dataclasses, books.py the state and lookups, and one module per family
holds its rules (invoices, payments, credits, banking, journals); organisation.py combines them.
"""

from xero_sandbox.org.books import OnChange
from xero_sandbox.org.errors import NotFound, ValidationError
from xero_sandbox.org.organisation import Organisation

__all__ = ["NotFound", "OnChange", "Organisation", "ValidationError"]
