"""How often the daemon evaluates our sensors.

XERO_SYNC_SENSOR_INTERVAL (seconds, `Settings.sensor_interval`) replaces every sensor's default
interval when set. `xero_sync.definitions.build_defs` reads it once, when the definitions load
(each code server process loads them once), and hands it to every sensor factory. Production
keeps the defaults; the deployment's end-to-end test shortens them instead of waiting out
30-second ticks.
"""

from __future__ import annotations


def interval(default: int, every: int | None = None) -> int:
    """`every` (XERO_SYNC_SENSOR_INTERVAL) when set, else the sensor's own `default`."""
    return every or default
