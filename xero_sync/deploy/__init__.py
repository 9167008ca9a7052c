"""`xero-sync deploy-local` (`scripts/deploy-local`): the production shape on one machine.

One PostgreSQL database (Dagster's storage in its own schema, the platform store in `public`),
one `dagster api grpc` code server per partner shard, `dagster-daemon run`, `dagster-webserver`,
and the Xero sandbox with many tenants, each connected by a partner. Modules: `instance_files`
(dagster.yaml and workspace.yaml), `database`, `children` (process supervision), `services`
(the commands and their readiness), `partners` (connecting them), `progress`, `deployment` (start,
watch, stop: used by the command, its test and bench/onboard_many.py), `main` (the command).
"""
