"""Deterministic organisations from a seed number.

Same seed, same ids, amounts and dates. History is replayed through the Organisation's own rule
methods (so AmountDue/Status are always consistent) with timestamps back-dated to each event and
index maintenance deferred to one bulk rebuild, which keeps 50k invoices well under 20 s.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal

from xero_sandbox.clock import Clock
from xero_sandbox.org import OnChange, Organisation

_UTC = dt.timezone.utc
_COMPANY_WORDS = ("Acme", "Bayside", "Cedar", "Delta", "Evergreen", "Fairview", "Granite", "Harbor",
                  "Ironwood", "Juniper", "Keystone", "Lakeside", "Maple", "Northwind", "Oakridge",
                  "Pinecrest", "Quarry", "Redwood", "Summit", "Tidewater")
_COMPANY_KINDS = ("Dental", "Plumbing", "Bakery", "Consulting", "Fitness", "Florist", "Garage",
                  "Studio", "Clinic", "Landscaping", "Catering", "Tutoring")
_SUPPLIERS = ("Office Supplies Co", "City Power & Light", "Metro Telecom", "Rent Holdings LLC",
              "Payments Platform Inc")

# (code, name, type, class, enable_payments)
CHART = (
    ("090", "Business Checking", "BANK", "ASSET", False),
    ("091", "Business Savings", "BANK", "ASSET", False),
    ("095", "Payments Clearing", "BANK", "ASSET", False),
    ("610", "Accounts Receivable", "CURRENT", "ASSET", False),
    ("615", "Undeposited Funds", "CURRENT", "ASSET", True),
    ("620", "Prepayments", "CURRENT", "ASSET", False),
    ("800", "Accounts Payable", "CURRLIAB", "LIABILITY", False),
    ("820", "Sales Tax", "CURRLIAB", "LIABILITY", False),
    ("200", "Sales", "REVENUE", "REVENUE", False),
    ("260", "Other Revenue", "REVENUE", "REVENUE", False),
    ("404", "Merchant Fees", "EXPENSE", "EXPENSE", False),
    ("429", "General Expenses", "EXPENSE", "EXPENSE", False),
    ("469", "Rent", "EXPENSE", "EXPENSE", False),
    ("970", "Owner Funds Introduced", "EQUITY", "EQUITY", False),
)


def _months_back(end: dt.date, months: int) -> dt.date:
    """First day of the month `months - 1` months before `end`'s month."""
    total = end.year * 12 + end.month - 1 - (months - 1)
    return dt.date(total // 12, total % 12 + 1, 1)


def _stamp(cap: dt.datetime, day: dt.date, rng: random.Random) -> dt.datetime:
    """A working-hours instant on `day`, never later than `cap` (the clock's now)."""
    at = dt.datetime(day.year, day.month, day.day, 9, tzinfo=_UTC) + dt.timedelta(
        seconds=rng.randrange(8 * 3600))
    return min(at, cap)


def seed_organisations(*, seed: int, invoices: int, months: int, tenants: int = 1,
                       currency: str = "USD", clock: Clock, on_change: OnChange | None = None,
                       end: dt.date | None = None) -> list[Organisation]:
    """`tenants` organisations, each with `invoices` ACCREC invoices over the last `months` months."""
    end = end or clock.now().date()
    return [_seed_org(random.Random(f"{seed}:{n}"), n, invoices=invoices, months=max(1, months),
                      currency=currency, clock=clock, on_change=on_change, end=end)
            for n in range(1, tenants + 1)]


def _seed_org(rng: random.Random, n: int, *, invoices: int, months: int, currency: str,
              clock: Clock, on_change: OnChange | None, end: dt.date) -> Organisation:
    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    country = "US" if currency == "USD" else "CA"
    tenant_id = new_id()
    org = Organisation(tenant_id, f"Demo Company ({country}) #{n}", currency, clock,
                       short_code=f"!{rng.randrange(16**5):05X}", on_change=on_change)
    org.id_source = new_id
    org.bulk = True
    start = _months_back(end, months)
    cap = clock.now().replace(microsecond=0) - dt.timedelta(seconds=1)
    org.fixed_now = _stamp(cap, start - dt.timedelta(days=1), rng)
    try:
        for code, name, type_, cls, enable in CHART:
            org.add_account(code=code, name=name, type=type_, cls=cls, enable_payments=enable,
                            bank_account_number=f"{rng.randrange(10**8):08d}" if type_ == "BANK" else "")
        bank = org.account_by_code("090")
        clearing = org.account_by_code("095")
        undeposited = org.account_by_code("615")
        assert bank and clearing and undeposited
        payment_accounts = (clearing.account_id, clearing.account_id, bank.account_id,
                            undeposited.account_id)
        customers = []
        for i in range(max(3, invoices // 8)):
            name = f"{rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_KINDS)} {i + 1}"
            customers.append(org.create_contact(name=name, email=f"billing{i + 1}@example.com",
                                                is_customer=True, account_number=f"C{i + 1:05d}"))
        suppliers = [org.create_contact(name=s, is_supplier=True) for s in _SUPPLIERS]
        for contact in customers[-max(1, len(customers) // 50):]:
            contact.status = "ARCHIVED"
        active = [c for c in customers if c.status == "ACTIVE"]
        span = (end - start).days + 1
        recent = end - dt.timedelta(days=60)
        for _ in range(invoices):
            _seed_invoice(org, rng, cap, active, start, span, end, recent, payment_accounts)
        for i in range(max(2, invoices // 50)):
            day = start + dt.timedelta(days=rng.randrange(span))
            org.fixed_now = _stamp(cap, day, rng)
            bill = org.create_invoice(
                contact_id=rng.choice(suppliers).contact_id, type="ACCPAY", status="AUTHORISED",
                date=day, due_date=day + dt.timedelta(days=30), number=f"BILL-{i + 1:04d}",
                lines=[{"Description": "Supplies", "Quantity": 1,
                        "UnitAmount": Decimal(rng.randrange(2000, 90000)) / 100, "AccountCode": "429"}])
            if bill.due_date <= end and rng.random() < 0.7:
                org.add_payment(invoice_id=bill.invoice_id, account_id=bank.account_id,
                                amount=bill.amount_due, date=bill.due_date)
    finally:
        org.fixed_now = None
        org.bulk = False
    org.rebuild_indexes()
    return org


def _seed_invoice(org: Organisation, rng: random.Random, cap: dt.datetime, customers: list, start: dt.date,
                  span: int, end: dt.date, recent: dt.date, payment_accounts: tuple) -> None:
    day = start + dt.timedelta(days=rng.randrange(span))
    org.fixed_now = _stamp(cap, day, rng)
    total = Decimal(rng.randrange(5000, 500001)) / 100
    contact = rng.choice(customers)
    roll = rng.random()
    if roll < 0.04:
        status = "DRAFT"
    elif roll < 0.06:
        status = "SUBMITTED"
    else:
        status = "AUTHORISED"
    lines = [{"Description": "Services", "Quantity": 1, "UnitAmount": total, "AccountCode": "200"}]
    if rng.random() < 0.3:
        part = Decimal(rng.randrange(100, int(total * 100))) / 100 if total > Decimal("1.01") else total
        lines = [{"Description": "Services", "Quantity": 1, "UnitAmount": part, "AccountCode": "200"},
                 {"Description": "Materials", "Quantity": 1, "UnitAmount": total - part,
                  "AccountCode": "200"}]
    inv = org.create_invoice(contact_id=contact.contact_id, lines=lines, date=day,
                             due_date=day + dt.timedelta(days=30), status=status,
                             reference=f"PO-{rng.randrange(10**5):05d}" if rng.random() < 0.5 else "")
    if status != "AUTHORISED":
        if rng.random() < 0.3:
            org.fixed_now = _stamp(cap, min(end, day + dt.timedelta(days=rng.randrange(1, 10))), rng)
            org.delete_invoice(inv.invoice_id)
        return
    is_recent = day >= recent
    fate = rng.random()
    if fate < 0.02:
        org.fixed_now = _stamp(cap, min(end, day + dt.timedelta(days=rng.randrange(0, 20))), rng)
        org.void_invoice(inv.invoice_id)
        return
    # Older invoices are mostly settled; the last two months are mostly still open.
    paid_share = 0.25 if is_recent else 0.8
    fate = rng.random()
    pay_day = min(end, day + dt.timedelta(days=rng.randrange(0, 45)))
    org.fixed_now = _stamp(cap, pay_day, rng)
    if fate < 0.05:
        note = org.create_credit_note(contact_id=contact.contact_id, date=pay_day, lines=[
            {"Description": "Discount", "Quantity": 1, "UnitAmount": money_part(rng, inv.total),
             "AccountCode": "200"}])
        org.allocate("CREDITNOTE", note.credit_note_id, invoice_id=inv.invoice_id,
                     amount=note.total, date=pay_day)
    elif fate < 0.07:
        kind = rng.choice(("RECEIVE-OVERPAYMENT", "RECEIVE-PREPAYMENT"))
        amount = money_part(rng, inv.total)
        txn = org.create_bank_transaction(
            type=kind, bank_account_id=payment_accounts[2], contact_id=contact.contact_id,
            date=pay_day, lines=[{"Description": kind.title(), "LineAmount": amount,
                                  "AccountCode": "610" if kind.endswith("OVERPAYMENT") else "620"}])
        source = txn.overpayment_id or txn.prepayment_id
        assert source is not None  # an OVERPAYMENT or PREPAYMENT transaction creates its credit
        org.allocate(kind.split("-")[1], source, invoice_id=inv.invoice_id, amount=amount,
                     date=pay_day)
    if rng.random() < paid_share:
        org.add_payment(invoice_id=inv.invoice_id, account_id=rng.choice(payment_accounts),
                        amount=inv.amount_due, date=pay_day, reference=f"ch_{rng.randrange(16**10):010x}")
    elif rng.random() < 0.15:
        org.add_payment(invoice_id=inv.invoice_id, account_id=rng.choice(payment_accounts),
                        amount=money_part(rng, inv.amount_due), date=pay_day,
                        reference=f"ch_{rng.randrange(16**10):010x}")


def money_part(rng: random.Random, amount: Decimal) -> Decimal:
    """A random 10-60% share of `amount`, in cents, at least 0.01."""
    cents = int(amount * 100)
    return Decimal(max(1, cents * rng.randrange(10, 61) // 100)) / 100
