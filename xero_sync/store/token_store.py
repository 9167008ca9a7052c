"""Token sets in the platform store, encrypted, with one refresher per token set.

`refresh` claims the token set with a compare-and-set (`refresh_owner`, `refresh_lease_until`,
only if `version` is unchanged and no live lease exists), calls Xero with no transaction open,
then writes the rotated pair, bumps `version` and clears the lease in one short transaction. A
second process waits for the lease and then sees the new token and does not refresh again, so a
rotated refresh token is never used twice (Xero would answer invalid_grant after the grace
period). Holding no transaction during the HTTP call matters on SQLite, where a write
transaction locks the whole database (webhook inserts would wait behind a hanging Xero).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from xero_sync.store.schema import xero_connections, xero_token_sets
from xero_sync.store.states import ConnectionStatus
from xero_sync.store.token_cipher import TokenCipher
from xero_sync.core.errors import NeedsReauth
from xero_sync.core.tokens import REFRESH_MARGIN_SECONDS, Refresher, TokenSet

# Longer than one refresh can take (OAuth read timeout 30 s, a few retries): a crashed refresher's
# lease lapses after this and another process takes over.
LEASE_SECONDS = 180
WAIT_POLL_SECONDS = 0.05  # how often a waiting refresher re-reads the row

REAUTH_DETAIL = "Xero refused the stored sign-in (refresh token invalid or revoked): reconnect Xero."


class TokenSetNotFound(LookupError):
    """No token set with this id in the platform store."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class SqlTokenStore:
    """`TokenStore` on `xero_token_sets` (PostgreSQL or SQLite)."""

    def __init__(
        self, engine: sa.Engine, cipher: TokenCipher, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.clock = clock  # decides "expiring within 60 s" and leases; tests pass the sandbox clock
        self.wait = time.sleep  # between re-reads while another process holds the refresh lease

    def __repr__(self) -> str:
        return f"SqlTokenStore({self.engine.url.render_as_string(hide_password=True)!r})"

    # --- rows <-> TokenSet ----------------------------------------------------------------------

    def _decode(self, row: sa.Row) -> TokenSet:
        expires = row.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.timezone.utc)
        return TokenSet(
            access_token=self.cipher.decrypt(row.access_token_enc),
            refresh_token=self.cipher.decrypt(row.refresh_token_enc),
            expires_at=expires,
            scope=row.scope,
            token_type=row.token_type,
            id_token=self.cipher.decrypt(row.id_token_enc) if row.id_token_enc else None,
        )

    def _encode(self, ts: TokenSet) -> dict:
        return {
            "access_token_enc": self.cipher.encrypt(ts.access_token),
            "refresh_token_enc": self.cipher.encrypt(ts.refresh_token),
            "id_token_enc": self.cipher.encrypt(ts.id_token) if ts.id_token else None,
            "scope": ts.scope,
            "token_type": ts.token_type,
            "expires_at": ts.expires_at.astimezone(dt.timezone.utc),
        }

    def _select(self, conn: sa.Connection, token_set_id: int, *, lock: bool) -> sa.Row:
        query = sa.select(xero_token_sets).where(xero_token_sets.c.token_set_id == token_set_id)
        if lock:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise TokenSetNotFound(f"token set {token_set_id} is not in the platform store")
        return row

    # --- TokenStore -------------------------------------------------------------------------------

    def load(self, token_set_id: int) -> TokenSet:
        with self.engine.connect() as conn:
            return self._decode(self._select(conn, token_set_id, lock=False))

    def save_new(self, token_set: TokenSet) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.insert(xero_token_sets).values(
                    **self._encode(token_set), version=1, updated_at=_utc_now()
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # a single-row INSERT
            return int(key[0])

    def replace(self, token_set_id: int, token_set: TokenSet) -> None:
        """Store a fresh pair from a new consent (reconnect) in an existing token set."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(xero_token_sets)
                .where(xero_token_sets.c.token_set_id == token_set_id)
                .values(**self._encode(token_set), version=xero_token_sets.c.version + 1,
                        updated_at=_utc_now())
            )

    def mark_needs_reauth(self, token_set_id: int, detail: str = REAUTH_DETAIL) -> int:
        return mark_needs_reauth(self.engine, token_set_id, detail)

    def version(self, token_set_id: int) -> int:
        with self.engine.connect() as conn:
            return int(self._select(conn, token_set_id, lock=False).version)

    def refresh(
        self,
        token_set_id: int,
        refresher: Refresher,
        *,
        force: bool = False,
        stale: TokenSet | None = None,
    ) -> TokenSet:
        """Refresh unless someone already did; one refresher at a time, no transaction held.

        Without `force`, refreshes only if the stored access token expires within 60 s. With
        `force` (after a 401), refreshes unless the stored access token differs from `stale`
        (the one that got the 401) — then another worker rotated it already and we use theirs.
        """
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + LEASE_SECONDS + 5
        while True:
            with self.engine.connect() as conn:
                row = self._select(conn, token_set_id, lock=False)
            stored = self._decode(row)
            if force:
                needed = stale is None or stored.access_token == stale.access_token
            else:
                needed = stored.expires_within(REFRESH_MARGIN_SECONDS, self.clock())
            if not needed:
                return stored
            if self._claim(token_set_id, row.version, owner):
                break
            # Another process holds the lease: wait for its rotation (or for its lease to lapse).
            if time.monotonic() > deadline:
                raise RuntimeError(f"token set {token_set_id}: another refresher held it for over "
                                   f"{LEASE_SECONDS} s")
            self.wait(WAIT_POLL_SECONDS)
        try:
            fresh = refresher(stored)  # the HTTP call: no transaction, no lock held
        except NeedsReauth:
            self._release(token_set_id, owner)
            mark_needs_reauth(self.engine, token_set_id, REAUTH_DETAIL)
            raise
        except BaseException:
            self._release(token_set_id, owner)
            raise
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(xero_token_sets)
                .where(xero_token_sets.c.token_set_id == token_set_id)
                .where(xero_token_sets.c.refresh_owner == owner)
                .where(xero_token_sets.c.version == row.version)
                .values(**self._encode(fresh), version=row.version + 1, updated_at=_utc_now(),
                        refresh_owner=None, refresh_lease_until=None)
            )
        if updated.rowcount != 1:  # our lease lapsed and someone else rotated: refuse loudly
            raise RuntimeError(f"token set {token_set_id} changed while we held its refresh lease")
        return fresh

    def _claim(self, token_set_id: int, version: int, owner: str) -> bool:
        """Compare-and-set: we become the refresher if the row is unchanged and nobody holds it."""
        now = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc)
        t = xero_token_sets.c
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(xero_token_sets)
                .where(t.token_set_id == token_set_id, t.version == version)
                .where(sa.or_(t.refresh_owner.is_(None), t.refresh_lease_until < now))
                .values(refresh_owner=owner, refresh_lease_until=now + dt.timedelta(seconds=LEASE_SECONDS))
            )
            return result.rowcount == 1

    def _release(self, token_set_id: int, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(xero_token_sets)
                .where(xero_token_sets.c.token_set_id == token_set_id,
                       xero_token_sets.c.refresh_owner == owner)
                .values(refresh_owner=None, refresh_lease_until=None)
            )


def mark_needs_reauth(engine: sa.Engine, token_set_id: int, detail: str) -> int:
    """Every connection using this token set -> needs_reauth; returns how many rows changed."""
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(xero_connections)
            .where(xero_connections.c.token_set_id == token_set_id)
            .where(xero_connections.c.status != ConnectionStatus.DISCONNECTED)
            .values(status=ConnectionStatus.NEEDS_REAUTH, status_detail=detail, updated_at=_utc_now())
        )
        return result.rowcount


def mark_disconnected(engine: sa.Engine, tenant_id: str, detail: str) -> int:
    """The connection for this tenant -> disconnected (after TenantDisconnected); its tokens go."""
    from xero_sync.store.connections import drop_token_set

    with engine.begin() as conn:
        token_set_ids = conn.execute(
            sa.select(xero_connections.c.token_set_id).where(xero_connections.c.tenant_id == tenant_id)
        ).scalars().all()
        result = conn.execute(
            sa.update(xero_connections)
            .where(xero_connections.c.tenant_id == tenant_id)
            .values(status=ConnectionStatus.DISCONNECTED, status_detail=detail, token_set_id=None, updated_at=_utc_now())
        )
        for token_set_id in token_set_ids:
            drop_token_set(conn, token_set_id)
        return result.rowcount


# A row that moved under the rotation (a refresh stored a new pair) is read and re-encrypted
# again; more moves than this in one rotation means something refreshes in a loop: stop loudly.
REENCRYPT_ATTEMPTS = 10


def reencrypt_all(engine: sa.Engine, cipher: TokenCipher) -> int:
    """Re-encrypt every stored token set with the cipher's newest key; returns how many.

    All rows are decrypted before anything is written, in one transaction: a key that cannot open
    some row (ConfigError) changes nothing. Each row is written by compare-and-set on `version`:
    a refresh that stored a new pair since the row was read bumped it, so the rotation re-reads
    that row and re-encrypts the new pair instead of writing the retired refresh token back
    (issue 18). `version` itself is unchanged, so a refresher holding the lease meanwhile is not
    disturbed (its final write replaces the ciphertexts anyway).
    """
    t = xero_token_sets.c
    columns = (t.token_set_id, t.version, t.access_token_enc, t.refresh_token_enc, t.id_token_enc)
    with engine.begin() as conn:
        rows = conn.execute(sa.select(*columns).order_by(t.token_set_id)).all()
        pending = {r.token_set_id: _rotated(cipher, r) for r in rows}
        for token_set_id in sorted(pending):
            for _ in range(REENCRYPT_ATTEMPTS):
                version, values = pending[token_set_id]
                written = conn.execute(
                    sa.update(xero_token_sets)
                    .where(t.token_set_id == token_set_id, t.version == version).values(**values)
                ).rowcount
                if written == 1:
                    break
                moved = conn.execute(sa.select(*columns).where(t.token_set_id == token_set_id)).first()
                if moved is None:  # dropped meanwhile (disconnected): nothing left to rotate
                    break
                pending[token_set_id] = _rotated(cipher, moved)
            else:
                raise RuntimeError(f"token set {token_set_id} changed {REENCRYPT_ATTEMPTS} times during "
                                   "the key rotation; nothing was re-encrypted, run it again")
    return len(rows)


def _rotated(cipher: TokenCipher, row: sa.Row) -> tuple[int, dict]:
    return row.version, {
        "access_token_enc": cipher.rotate(row.access_token_enc),
        "refresh_token_enc": cipher.rotate(row.refresh_token_enc),
        "id_token_enc": cipher.rotate(row.id_token_enc) if row.id_token_enc else None,
    }
