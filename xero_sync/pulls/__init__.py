"""Pulling a partner's data from Xero and applying it: plain functions (no Dagster) the assets,
the incremental job and the cohort runs share (months.py, changes.py), and what a pull found, the
checks and previews its metadata shows (metadata.py; glue/metadata.py makes the Dagster metadata)."""
