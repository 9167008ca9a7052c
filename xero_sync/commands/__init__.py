"""The `xero-sync` command line: `cli.py` assembles one subcommand per module."""
