"""Bulk helpers on PostgreSQL: id lists as one text[] literal, COPY inserts with a conflict fallback."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from xero_sync.store import apply
from xero_sync.store.bulk import in_values, pg_array_literal
from xero_sync.store.connections import ensure_partner
from xero_sync.store.schema import customers

pytestmark = pytest.mark.postgres

ODD_IDS = ['plain', 'quo"te', 'back\\slash', 'com,ma', '{brace}', 'NULL', ' spaced ', 'ünï']


@pytest.fixture
def pg_engine(pg_url):
    from xero_sync.store.db import make_engine, upgrade

    upgrade(pg_url)
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        ensure_partner(conn, "acme", "Acme")
    yield engine
    engine.dispose()


def test_array_literal_round_trips_awkward_ids(pg_engine):
    with pg_engine.begin() as conn:
        back = conn.execute(sa.text("SELECT CAST(:a AS text[])"), {"a": pg_array_literal(ODD_IDS)}).scalar_one()
    assert back == ODD_IDS


def test_in_values_matches_exactly_the_listed_ids(pg_engine):
    rows = [{"partner_id": "acme", "source": "xero", "xero_contact_id": x, "name": x} for x in [*ODD_IDS, "other"]]
    with pg_engine.begin() as conn:
        conn.execute(sa.insert(customers), rows)
        found = set(conn.execute(
            sa.select(customers.c.xero_contact_id).where(in_values(conn, customers.c.xero_contact_id, ODD_IDS))
        ).scalars())
    assert found == set(ODD_IDS)


def test_copy_insert_falls_back_to_on_conflict_when_a_row_exists(pg_engine):
    cols = ("partner_id", "source", "xero_contact_id", "name")
    first = [("acme", "xero", "c1", "One")]
    both = [("acme", "xero", "c1", "One again"), ("acme", "xero", "c2", "Two")]
    with pg_engine.begin() as conn:
        assert apply._insert_rows(conn, customers, cols, first, ["partner_id", "xero_contact_id"]) == 1
        # c1 exists (as if a concurrent apply created it): COPY clashes, the fallback skips it.
        assert apply._insert_rows(conn, customers, cols, both, ["partner_id", "xero_contact_id"]) == 1
        rows = dict(conn.execute(sa.select(customers.c.xero_contact_id, customers.c.name)).all())
    assert rows == {"c1": "One", "c2": "Two"}
