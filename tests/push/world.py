"""A partner connected to a live sandbox organisation, with a migrated platform store: the real
client, the real outbox and the real push path (no mocks), plus helpers to read the sandbox."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from tests.sandbox_fixtures import control, issue_tokens
from xero_sync.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, XeroEndpoints
from xero_sync.core.money import from_minor
from xero_sync.store import apply, connections, landing
from xero_sync.events import api as events
from xero_sync.store import schema
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.store.token_store import SqlTokenStore
from xero_sync.push.engine import PushReport, push_partner
from xero_sandbox.org import Organisation
from xero_sandbox.server import SandboxServer
from xero_sync.xero.client import XeroClient
from xero_sync.xero.oauth import OAuthApp
from xero_sync.xero.rate_budget import RateBudget
from xero_sync.core.tokens import TokenSet

PAID_ON = dt.date(2026, 11, 10)
IDLE_ADVANCE = 120.0  # sandbox seconds between two pushes that could only wait


@dataclass
class World:
    server: SandboxServer
    engine: sa.Engine
    partner_id: str
    tenant_id: str
    token_set_id: int
    store: SqlTokenStore
    app: OAuthApp
    endpoints: XeroEndpoints
    payment_ids: list[str] = field(default_factory=list)
    deposit_ids: list[str] = field(default_factory=list)
    payout_ids: list[str] = field(default_factory=list)

    @property
    def org(self) -> Organisation:
        return self.server.sandbox.orgs[self.tenant_id]

    @property
    def clock(self):
        return self.server.sandbox.clock

    def client(self, timeout=(5, 60)) -> XeroClient:
        return XeroClient(
            endpoints=self.endpoints, tenant_id=self.tenant_id, token_store=self.store,
            token_set_id=self.token_set_id, oauth_app=self.app,
            budget=RateBudget(self.tenant_id, clock=self.clock.time, sleep=self.clock.sleep),
            clock=self.clock.time, sleep=self.clock.sleep, timeout=timeout,
        )

    def fault(self, **body) -> dict:
        return control(self.server, "POST", "/faults", {"tenant_id": self.tenant_id, **body})

    def clear_faults(self) -> None:
        control(self.server, "DELETE", "/faults")

    # --- the pull side, as the sync assets do it ---------------------------------------------

    def pull(self, client: XeroClient | None = None) -> None:
        pull_all(self.engine, client or self.client(), self.partner_id)

    # --- Alternative activity ----------------------------------------------------------------

    def open_invoices(self) -> list[sa.Row]:
        i = schema.invoices.c
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(i.invoice_id, i.outstanding_minor, i.currency, i.number)
                .where(i.partner_id == self.partner_id, i.source == "xero",
                       i.outstanding_minor > 100, i.xero_status == "AUTHORISED")
                .order_by(i.invoice_id)
            ).all()

    def record_payments(self, count: int, *, per_invoice: int = 3, prefix: str = "pay") -> list[str]:
        """`count` partial payments on open Xero invoices (at most `per_invoice` each)."""
        made: list[str] = []
        with self.engine.begin() as conn:
            for inv in self.open_invoices():
                share = inv.outstanding_minor // (per_invoice + 1)
                for k in range(per_invoice):
                    if len(made) == count:
                        break
                    pid = f"{prefix}_{inv.invoice_id}_{k}"
                    events.payment_taken(conn, partner_id=self.partner_id, payment_id=pid,
                                         invoice_id=inv.invoice_id, amount=self.amount(share + k),
                                         fee=self.amount((share + k) // 50), currency=inv.currency,
                                         paid_on=PAID_ON)
                    made.append(pid)
        assert len(made) == count, f"only {len(made)} payments fit the open invoices"
        self.payment_ids += made
        return made

    def record_deposits(self, count: int, amount_minor: int = 12_345) -> list[str]:
        """Payments in full on invoices created in Alternative (stand-alone deposits), reported
        through the events API."""
        made: list[str] = []
        first = len(self.deposit_ids)
        with self.engine.begin() as conn:
            for n in range(first, first + count):
                amount = self.amount(amount_minor + n)
                invoice_id = events.invoice_created(
                    conn, partner_id=self.partner_id, number=f"ALT-{n + 1:04d}",
                    currency=self.org.currency, amount=amount, issue_date=PAID_ON)
                pid = f"dep_{n + 1:04d}"
                events.payment_taken(conn, partner_id=self.partner_id, payment_id=pid,
                                     invoice_id=invoice_id, amount=amount,
                                     currency=self.org.currency, paid_on=PAID_ON)
                made.append(pid)
        self.deposit_ids += made
        return made

    def record_payouts(self, groups: list[list[str]], fees_minor: int = 250) -> list[str]:
        made: list[str] = []
        with self.engine.begin() as conn:
            for n, group in enumerate(groups):
                payout_id = f"po_{len(self.payout_ids) + n + 1:03d}"
                events.payout_sent(conn, partner_id=self.partner_id, payout_id=payout_id,
                                   currency=self.org.currency, payment_ids=group,
                                   fees=self.amount(fees_minor), paid_out_on=PAID_ON)
                made.append(payout_id)
        self.payout_ids += made
        return made

    # --- pushing -------------------------------------------------------------------------------

    def push_until_quiet(self, client: XeroClient | None = None, max_runs: int = 60,
                         **kwargs) -> list[PushReport]:
        """Push until nothing is claimable; a failed run counts as a run (the job retries it).
        A push that could only wait (an unknown row whose original may still be in flight)
        moves the sandbox clock on by IDLE_ADVANCE, as time would between sensor ticks."""
        client = client or self.client()
        reports: list[PushReport] = []
        for _ in range(max_runs):
            try:
                report = push_partner(self.engine, client, self.partner_id, **kwargs)
            except Exception as exc:  # noqa: BLE001 - a transient failure: the job would retry
                report = PushReport(self.partner_id, messages=[repr(exc)])
            reports.append(report)
            if not self.claimable():
                return reports
            if report.done == 0 and report.payments_sent == 0:
                self.advance(IDLE_ADVANCE)
        last = reports[-1].messages if reports else []
        raise AssertionError(f"push did not become quiet in {max_runs} runs: {self.statuses()} {last}")

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock (writes applied late land when due)."""
        control(self.server, "POST", "/clock/advance", {"seconds": seconds})

    def claimable(self) -> int:
        o = schema.outbox.c
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(schema.outbox)
                .where(o.partner_id == self.partner_id, o.status.in_(("pending", "unknown", "sending")))
            ).scalar_one()

    def statuses(self) -> Counter:
        o = schema.outbox.c
        with self.engine.connect() as conn:
            return Counter(dict(conn.execute(
                sa.select(o.status, sa.func.count()).where(o.partner_id == self.partner_id)
                .group_by(o.status)).all()))

    def outbox_rows(self) -> list[sa.Row]:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(schema.outbox).where(
                schema.outbox.c.partner_id == self.partner_id).order_by(schema.outbox.c.outbox_id)).all()

    def diff(self, as_of: dt.date | None = None):
        """Pull what Xero now holds, read Xero as the asset does (payouts by reference, the
        payments account's balance), then the reconciliation diff of the partner."""
        from xero_sync.reconciliation.xero_reads import XeroSide, read_xero_side
        from xero_sync.reconciliation import diffs
        from xero_sync.sync import reconcile

        self.pull()
        as_of = as_of or dt.datetime.now(dt.timezone.utc).date()
        with self.engine.connect() as conn:
            connection = connections.get_connection(conn, self.partner_id)
            to_check = diffs.payouts_to_check(conn, self.partner_id)
        side = (read_xero_side(self.client(), connection, to_check, as_of)
                if connection.payments_account_is_bank is not None else XeroSide(as_of))
        with self.engine.connect() as conn:
            return reconcile.diff(diffs.load_reconcile_input(
                conn, self.partner_id, side.payout_amounts,
                payments_account_minor=side.payments_account_minor, as_of=as_of))

    def reconcile(self, as_of: dt.date | None = None):
        """What the reconciliation asset does after the diff: its second look at Xero (evidence
        for repairs, manual bookings; push/repairs.py), the diff saved, repairs enqueued on
        evidence only. Returns (diff, subjects re-queued)."""
        from xero_sync.reconciliation import diffs
        from xero_sync.push import repairs

        diff = self.diff(as_of)
        with self.engine.connect() as conn:
            connection = connections.get_connection(conn, self.partner_id)
        looked = repairs.second_look(self.engine, self.client(), connection, diff)
        with self.engine.begin() as conn:
            diffs.save_diff(conn, self.partner_id, looked.diff)
            repaired = diffs.enqueue_repairs(conn, self.partner_id, looked.diff, looked.proofs)
        return looked.diff, repaired

    # --- what Xero holds ----------------------------------------------------------------------

    def xero_payments_by_reference(self) -> Counter:
        return Counter(p.reference for p in self.org.payments.values() if p.status != "DELETED")

    def xero_bank_transactions_by_reference(self) -> Counter:
        return Counter(t.reference for t in self.org.bank_transactions.values()
                       if t.status != "DELETED" and not t.type.endswith("-TRANSFER"))

    def xero_transfers_by_reference(self) -> Counter:
        return Counter(t.reference for t in self.org.bank_transfers.values())

    def amount(self, minor: int) -> Decimal:
        return from_minor(minor, self.org.currency)


def pull_all(engine: sa.Engine, client: XeroClient, partner_id: str) -> None:
    """Read every contact, invoice and payment, land them and apply them (as the sync assets do)."""
    pulled_at = dt.datetime.now(dt.timezone.utc)
    reads = {"contacts": client.contacts(), "invoices": client.invoices(), "payments": client.payments()}
    with engine.begin() as conn:
        landing.upsert_contacts(conn, partner_id, reads["contacts"].records, pulled_at)
        landing.upsert_invoices(conn, partner_id, reads["invoices"].records, pulled_at)
        landing.upsert_payments(conn, partner_id, reads["payments"].records, pulled_at)
        apply.apply_contacts(conn, partner_id, landing.load_contacts(conn, partner_id))
        apply.apply_invoices(conn, partner_id, landing.load_invoices(conn, partner_id))
        apply.apply_payments(conn, partner_id, landing.load_payments(conn, partner_id))


def account_id(org: Organisation, code: str) -> str:
    return next(a.account_id for a in org.accounts.values() if a.code == code)


def build_world(server: SandboxServer, engine: sa.Engine, *, partner_id: str = "acme",
                tenant_id: str | None = None, payments_code: str | None = "615",
                pull: bool = True, cipher_key: str | None = None) -> World:
    """Connect `partner_id` to the sandbox tenant, pull its records, and (unless payments_code is
    None) set up accounts: payments `payments_code`, deposit 090, fees 404, income 200. Tokens are
    encrypted with `cipher_key` (a fresh key unless given: give XERO_SYNC_ENCRYPTION_KEY's when
    the real XeroResource must read them)."""
    tenant = tenant_id or next(iter(server.sandbox.orgs))
    clock = server.sandbox.clock
    store = SqlTokenStore(engine, TokenCipher(cipher_key or TokenCipher.generate_key()), clock=clock.time)
    tokens = TokenSet.from_token_response(issue_tokens(server, tenant), clock.time())
    endpoints = XeroEndpoints.for_base(server.base_url)
    app = OAuthApp(endpoints, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, clock=clock.time, sleep=clock.sleep)
    token_set_id = store.save_new(tokens)
    with engine.begin() as conn:
        conn.execute(sa.insert(schema.partners).values(partner_id=partner_id, name=partner_id))
        conn.execute(sa.insert(schema.xero_connections).values(
            partner_id=partner_id, tenant_id=tenant, token_set_id=token_set_id,
            status="connected", base_currency=server.sandbox.orgs[tenant].currency))
    world = World(server, engine, partner_id, tenant, token_set_id, store, app, endpoints)
    if pull:
        world.pull()
    if payments_code is not None:
        set_accounts(world, payments_code)
    return world


def set_accounts(world: World, payments_code: str) -> None:
    org = world.org
    payments = next(a for a in org.accounts.values() if a.code == payments_code)
    with world.engine.begin() as conn:
        connections.set_accounts(
            conn, world.partner_id, payments_account_id=payments.account_id,
            payments_account_is_bank=payments.type == "BANK",
            deposit_account_id=account_id(org, "090"), fees_account_id=account_id(org, "404"),
            income_account_id=account_id(org, "200"),
        )
