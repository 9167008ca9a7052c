"""Reconciliation loading: the store's rows and Xero's figures into the frames and money positions
the pure rules in `xero_sync.sync` compare (`reconcile`, `reconcile_money`). No Dagster."""
