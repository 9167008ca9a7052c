"""How often the daemon evaluates our sensors.

XERO_SYNC_SENSOR_INTERVAL (seconds) replaces every sensor's default interval when set: read when
the definitions load (each code server process loads them once). Production keeps the defaults;
the deployment's end-to-end test shortens them instead of waiting out 30-second ticks.
"""

from __future__ import annotations

import os

from xero_sync.config import env_int

ENV = "XERO_SYNC_SENSOR_INTERVAL"


def interval(default: int) -> int:
    return env_int(os.environ, ENV, default)
