"""Links into the Dagster UI: a partner's pages in its shard's code location.

Shard 0's assets are unprefixed and shard N's are `shard_N/...` (layout.py), so finding a partner's
months means knowing its shard; partner_health links each partner to them. The links are
root-relative (`/assets/...`, the UI that shows them resolves them) unless XERO_SYNC_DAGSTER_UI_URL
gives the UI's base URL (config.dagster_ui_url).

The Dagster UI reads the partitions view's filter from the query string: `partner_range` selects
keys of the `partner` dimension of a partner x month asset (the UI's partition-selection syntax:
a key with characters outside `[-a-zA-Z0-9_:/@]` is double-quoted), and `partition` focuses one
partition of a partner-partitioned asset.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from xero_sync.shards.layout import shard

MONTHS_ASSET = "xero_invoices"  # the partner's months: what onboarding and backfills fill
_UNQUOTED = re.compile(r"[-a-zA-Z0-9_:/@]+")


def asset_url(base_url: str, shard_index: int, name: str) -> str:
    """The asset's page in the UI, e.g. `/assets/shard_1/xero_invoices`."""
    path = "/".join(quote(part, safe="") for part in shard(shard_index).key(name).path)
    return f"{base_url.rstrip('/')}/assets/{path}"


def selection_text(partition_key: str) -> str:
    """One key in the UI's partition-selection syntax."""
    if _UNQUOTED.fullmatch(partition_key):
        return partition_key
    return '"' + partition_key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def partner_months_url(base_url: str, shard_index: int, partner_id: str, asset: str = MONTHS_ASSET) -> str:
    """The partitions view of a partner x month asset of the partner's shard, showing only the
    partner's months."""
    query = urlencode({"view": "partitions", "partner_range": selection_text(partner_id)})
    return f"{asset_url(base_url, shard_index, asset)}?{query}"


def partner_diff_url(base_url: str, shard_index: int, partner_id: str) -> str:
    """The partner's partition of its shard's reconciliation_diff (latest diff, its metadata)."""
    query = urlencode({"view": "partitions", "partition": partner_id})
    return f"{asset_url(base_url, shard_index, 'reconciliation_diff')}?{query}"
