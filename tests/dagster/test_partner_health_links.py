"""partner_health links each partner to its own shard's pages in the Dagster UI (issue 20 item 7):
shard 0's assets are unprefixed, shard N's are `shard_N/...`, filtered to the partner's partitions;
relative links unless XERO_SYNC_DAGSTER_UI_URL gives the UI's base URL."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from xero_sync.assets.partner_health import COLUMNS, PAGES, health_table, partner_pages
from xero_sync.config import DAGSTER_UI_URL_ENV, ConfigError, Settings, dagster_ui_url
from xero_sync.shards import ui_links
from xero_sync.sync.health import PartnerFacts, assess, worst_first

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)


def _rows():
    return worst_first([
        assess(PartnerFacts(partner_id="acme", name="Acme", status="connected", shard=0,
                            last_sync_at=NOW, diff_computed_at=NOW), NOW),
        assess(PartnerFacts(partner_id="msp-004", name="MSP 4", status="connected", shard=1, unexplained=1,
                            last_sync_at=NOW, diff_computed_at=NOW), NOW),
    ])


def test_each_row_links_to_its_own_shards_months_filtered_to_the_partner():
    table = health_table(_rows(), NOW, 5000)
    assert [c.name for c in table.schema.columns] == list(COLUMNS)
    assert COLUMNS.index(PAGES) == COLUMNS.index("shard") + 1
    links = {r.data["partner"]: r.data[PAGES] for r in table.records}
    assert links == {
        "msp-004": "/assets/shard_1/xero_invoices?view=partitions&partner_range=msp-004",
        "acme": "/assets/xero_invoices?view=partitions&partner_range=acme",
    }
    assert [r.data["partner"] for r in table.records] == ["msp-004", "acme"]  # worst first


def test_links_start_with_the_configured_ui_url():
    table = health_table(_rows(), NOW, 5000, base_url="https://ops.example.com/dagster")
    url = urlsplit(table.records[0].data[PAGES])
    assert (url.scheme, url.netloc, url.path) == ("https", "ops.example.com", "/dagster/assets/shard_1/xero_invoices")
    assert parse_qs(url.query) == {"view": ["partitions"], "partner_range": ["msp-004"]}


def test_partner_pages_are_clickable_markdown_links_to_months_and_reconciliation():
    text = partner_pages(_rows())
    first, second = text.splitlines()
    assert first == ("- **msp-004** (failing, shard 1): "
                     "[months](/assets/shard_1/xero_invoices?view=partitions&partner_range=msp-004) · "
                     "[reconciliation](/assets/shard_1/reconciliation_diff?view=partitions&partition=msp-004)")
    assert "(/assets/xero_invoices?" in second and "(/assets/reconciliation_diff?" in second
    assert partner_pages([]) == "_no partners yet_"


@pytest.mark.parametrize("key,text", [("acme", "acme"), ("msp_4-a", "msp_4-a"),
                                      ("a b", '"a b"'), ('a"b,c', '"a\\"b,c"')])
def test_partition_keys_in_the_uis_selection_syntax(key, text):
    assert ui_links.selection_text(key) == text


@pytest.mark.parametrize("value,expected", [
    (None, ""), ("", ""), ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
    ("https://ops.example.com/dagster", "https://ops.example.com/dagster"),
])
def test_dagster_ui_url_setting(value, expected):
    env = {} if value is None else {DAGSTER_UI_URL_ENV: value}
    assert dagster_ui_url(env) == expected
    assert Settings.from_env(env).dagster_ui_url == expected


@pytest.mark.parametrize("value", ["127.0.0.1:3000", "ftp://host", "https://host/?a=1", "https://u:secret@host"])
def test_a_malformed_dagster_ui_url_is_refused_without_echoing_credentials(value):
    with pytest.raises(ConfigError, match=DAGSTER_UI_URL_ENV) as refused:
        dagster_ui_url({DAGSTER_UI_URL_ENV: value})
    assert "secret" not in str(refused.value)
