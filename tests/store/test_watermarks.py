from __future__ import annotations

import pytest

from tests.store.helpers import T0, later
from xero_sync.store.watermarks import advance_watermark, get_watermark, mark_full_reread


def test_watermark_only_moves_forward(store_engine):
    with store_engine.begin() as conn:
        assert get_watermark(conn, "acme", "invoices") is None
        advance_watermark(conn, "acme", "invoices", later(10))
        advance_watermark(conn, "acme", "invoices", T0)  # older: ignored
        assert get_watermark(conn, "acme", "invoices").modified_since == later(10)
        advance_watermark(conn, "acme", "invoices", later(20))
        mark_full_reread(conn, "acme", "invoices", later(30))
        mark_full_reread(conn, "acme", "invoices", later(5))
        mark = get_watermark(conn, "acme", "invoices")
        assert (mark.modified_since, mark.last_full_reread_at) == (later(20), later(30))
        assert get_watermark(conn, "acme", "contacts") is None


def test_full_reread_before_any_watermark(store_engine):
    with store_engine.begin() as conn:
        mark_full_reread(conn, "acme", "payments", T0)
        mark = get_watermark(conn, "acme", "payments")
        assert (mark.modified_since, mark.last_full_reread_at) == (None, T0)
        advance_watermark(conn, "acme", "payments", T0)
        assert get_watermark(conn, "acme", "payments").modified_since == T0


def test_unknown_entity_refused(store_engine):
    with store_engine.begin() as conn, pytest.raises(ValueError, match="unknown watermark entity"):
        advance_watermark(conn, "acme", "journals", T0)
