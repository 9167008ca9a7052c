"""Pulling a partner's data from Xero and applying it: plain functions the assets, the
incremental job and the cohort runs share (months.py, changes.py), and the materialization
metadata they all report (metadata.py)."""
