#!/usr/bin/env python3
"""Regenerate `xero_sync/xero/known_fields.py` from the vendored Xero OpenAPI spec.

    .venv/bin/python scripts/known_fields.py            # rewrite the module
    .venv/bin/python scripts/known_fields.py --check    # exit 1 if the module is stale

Known fields are each entity's spec properties, plus the `...String` twin Xero sends beside
every /Date()/ property, plus the few fields Xero sends that the spec omits (EXTRA).
"""

from __future__ import annotations

import sys
import textwrap

from spec_codegen import ROOT, generate  # a sibling module (scripts/ is on sys.path)

MODULE = ROOT / "xero_sync" / "xero" / "known_fields.py"
ENTITIES = ("Invoice", "Contact", "Payment", "CreditNote", "Account", "Organisation", "BankTransaction")
# Sent by Xero, absent from spec v16.1.0.
EXTRA = {"BankTransaction": {"BankTransactionNumber"}}


def known_fields(spec: dict) -> dict[str, set[str]]:
    schemas = spec["components"]["schemas"]
    out: dict[str, set[str]] = {}
    for entity in ENTITIES:
        props = schemas[entity]["properties"]
        fields = set(props)
        for name, prop in props.items():
            if name == "UpdatedDateUTC" or prop.get("x-is-msdate") or prop.get("format") in ("date", "date-time"):
                fields.add(f"{name}String")
        out[entity] = fields | EXTRA.get(entity, set())
    return out


def render(fields: dict[str, set[str]], version: str) -> str:
    lines = [
        '"""Top-level fields each Xero entity may carry (OpenAPI spec v%s plus the `...String`' % version,
        "twins Xero sends). A field outside these sets is reported as drift, not an error.",
        "",
        "Generated from vendor/xero-openapi/xero_accounting.yaml by scripts/known_fields.py; do not edit.",
        '"""',
        "",
        "KNOWN_FIELDS: dict[str, frozenset[str]] = {",
    ]
    for entity, names in fields.items():
        body = ", ".join(repr(n) for n in sorted(names))
        lines.append(f'    "{entity}": frozenset(')
        lines.append("        {")
        lines.extend(textwrap.wrap(body, width=92, initial_indent="        ", subsequent_indent="        ",
                                   break_on_hyphens=False))
        lines.append("        }")
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    return generate(__doc__.splitlines()[0], MODULE, "known_fields.py",
                    lambda spec: render(known_fields(spec), spec["info"]["version"]))


if __name__ == "__main__":
    sys.exit(main())
