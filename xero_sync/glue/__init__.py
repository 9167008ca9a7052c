"""Dagster glue shared by the assets, jobs and cohorts: the project's errors as `dg.Failure`
(failures.py) and the materialization metadata of pulls and reconciliations (metadata.py)."""
