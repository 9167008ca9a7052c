"""Dagster retry policies for the steps that read Xero.

The Xero client already retries every call (xero/retry.py: 5xx, timeouts and dropped connections
with exponential backoff, four attempts, then XeroUnavailable). A Xero outage that outlasts those
attempts fails the step with a retryable `dg.Failure` (glue/failures.py); Dagster then
runs the step again within the same run, after a backoff, because a pull is idempotent (months
re-read and landed by upsert; changes since a watermark that only moves on success). Failures only
a person or Xero's daily window can clear (daily limit, re-authorisation, disconnection, a missing
scope, a malformed payload) are raised with `allow_retries=False` and are not retried.

Cohort runs (cohorts/) have no step retry: a partner's failure is recorded as its own while the
others land (a retried step would read them all again), and the next schedule tick reads that
partner again.

Run-level retries (`run_retries` in dagster.yaml) stay for what kills a whole run (a worker
process lost), with `retry_on_asset_or_op_failure: false`, so a step is retried here only.
"""

import dagster as dg

# Up to 15 s before the second attempt and 45 s before the third (exponential, full jitter).
XERO_READ_RETRY_POLICY = dg.RetryPolicy(
    max_retries=2, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.FULL
)
