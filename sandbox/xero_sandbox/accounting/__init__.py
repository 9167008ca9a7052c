"""The sandbox's Accounting API: what Xero serves under /api.xro/2.0.

A Blueprint over the request's Organisation (`current_org()`, set by the server after auth).
Responses use Xero's wrappers (`{"Id","Status","ProviderName","DateTimeUTC","Invoices":[...]}`),
validation failures Xero's 400 `Error` shape (or 200 with per-element StatusAttributeString when
`summarizeErrors=false`), and unknown ids the plain-text 404 Xero sends. A summarised batch is
all or nothing: an element of the wrong shape (body_checks.py) refuses it before anything is
applied, and a rule broken by a later element restores the organisation as it was.

blueprint.py holds the Blueprint and its error answers, responses.py Xero's response shapes,
reads.py and writes.py what every list read and every write share, and one module per entity
family its routes; importing them here puts their routes on the Blueprint.
"""

from xero_sandbox.accounting import (  # noqa: F401  (each adds its routes)
    banking, contacts, credits, invoices, journals, organisation, payments,
)
from xero_sandbox.accounting.blueprint import accounting

__all__ = ["accounting"]
