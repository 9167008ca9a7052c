"""What a shard is in Dagster: its asset key prefix, its partner partitions, its code location.

Shard 0 keeps the unprefixed asset keys and the dynamic partitions `partners` that a one-shard
deployment has always had, so growing from one shard to several keeps every existing partition's
history. Shard N > 0 prefixes its asset keys with `shard_N` and partitions them by
`partners_shard_N`. Partition keys (`2026-10-01|acme`) and run tags are the same in every shard.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import dagster as dg

from xero_sync import partitions


# The partner x month assets of every shard, by entity (shard N > 0 prefixes their keys): jobs,
# sensors and cohorts name them by key, without importing the assets.
XERO_ASSET_NAMES = {"contacts": "xero_contacts", "invoices": "xero_invoices",
                    "payments": "xero_payments", "credit_notes": "xero_credit_notes"}
PLATFORM_ASSET_NAMES = {"customers": "platform_customers", "invoices": "platform_invoices",
                        "payments": "platform_payments"}


def location_name(index: int) -> str:
    """The code location name the README's workspaces give shard `index`."""
    return "xero_sync" if index == 0 else f"xero_sync_shard_{index}"


@dataclass(frozen=True, eq=False)  # one object per index (shard()), compared by identity
class Shard:
    index: int
    partners: dg.DynamicPartitionsDefinition
    partner_months: dg.MultiPartitionsDefinition

    @property
    def partners_name(self) -> str:
        """The name the partner partitions are stored under (shard() always names them)."""
        assert self.partners.name is not None
        return self.partners.name

    @property
    def prefix(self) -> list[str]:
        return [] if self.index == 0 else [f"shard_{self.index}"]

    def key(self, name: str) -> dg.AssetKey:
        return dg.AssetKey([*self.prefix, name])

    @property
    def record_keys(self) -> list[dg.AssetKey]:
        """The shard's partner x month assets: its xero_* and platform_* records."""
        return [self.key(name) for name in (*XERO_ASSET_NAMES.values(), *PLATFORM_ASSET_NAMES.values())]

    @property
    def location_name(self) -> str:
        return location_name(self.index)

    @property
    def label(self) -> str:
        return f"shard {self.index}"


@functools.cache
def shard(index: int) -> Shard:
    """The one Shard object per index (Dagster compares partitions definitions by value, but
    every asset, job and sensor of a shard sharing one object keeps that obvious)."""
    if index < 0:
        raise ValueError(f"shard index must be >= 0, got {index}")
    if index == 0:  # the definitions a one-shard deployment has always had
        return Shard(0, partitions.partners, partitions.partner_months)
    partners = dg.DynamicPartitionsDefinition(name=f"partners_shard_{index}")
    return Shard(index, partners, dg.MultiPartitionsDefinition({"partner": partners, "month": partitions.months}))
