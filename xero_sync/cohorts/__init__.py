"""Cohort runs: the steady-state syncs (every 15 minutes, and the daily re-read) run many
partners of a shard in one Dagster run instead of one run each (docs/operations.md "Cohort runs")."""
