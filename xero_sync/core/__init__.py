"""Shared types at the bottom of the layers: Xero records, token sets, the errors every layer
shares, exact money and checked ids. Imports nothing else of the product."""
