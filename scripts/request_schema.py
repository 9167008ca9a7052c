#!/usr/bin/env python3
"""Regenerate `sandbox/xero_sandbox/request_schema.py` from the vendored Xero OpenAPI spec.

    .venv/bin/python scripts/request_schema.py            # rewrite the module
    .venv/bin/python scripts/request_schema.py --check    # exit 1 if the module is stale

The sandbox checks write bodies against the field types of the entities it accepts (and every
schema they reference), so the fragment it needs ships inside the package: the sandbox never
reads the spec (or anything outside the checkout) at run time.
"""

from __future__ import annotations

import textwrap
import sys

from spec_codegen import ROOT, generate  # a sibling module (scripts/ is on sys.path)

MODULE = ROOT / "sandbox" / "xero_sandbox" / "request_schema.py"
# The bodies the sandbox accepts (see xero_sandbox/accounting/).
ROOTS = ("Contact", "Invoice", "Payment", "CreditNote", "Allocation", "BankTransaction",
         "BankTransfer", "ManualJournal")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def describe(prop: dict, schemas: dict, todo: list[str]) -> tuple:
    """A compact type descriptor: ("str", maxLength|None) | ("uuid",) | ("num",) | ("int",) |
    ("bool",) | ("date",) | ("datetime",) | ("enum", values) | ("obj", name) | ("arr", item)."""
    if "$ref" in prop:
        name = _ref_name(prop["$ref"])
        target = schemas[name]
        if "enum" in target:
            return ("enum", tuple(str(v) for v in target["enum"]))
        if target.get("type", "object") == "object" and "properties" in target:
            todo.append(name)
            return ("obj", name)
        return describe(target, schemas, todo)
    kind = prop.get("type")
    if kind == "array":
        return ("arr", describe(prop.get("items", {}), schemas, todo))
    if "enum" in prop:
        return ("enum", tuple(str(v) for v in prop["enum"]))
    if kind == "string":
        if prop.get("x-is-msdate") or prop.get("format") == "date":
            return ("date",)
        if prop.get("x-is-msdate-time") or prop.get("format") == "date-time":
            return ("datetime",)
        if prop.get("format") == "uuid":
            return ("uuid",)
        return ("str", prop.get("maxLength"))
    if kind == "number":
        return ("num",)
    if kind == "integer":
        return ("int",)
    if kind == "boolean":
        return ("bool",)
    return ("any",)


def request_schema(spec: dict) -> dict[str, dict[str, tuple]]:
    schemas = spec["components"]["schemas"]
    out: dict[str, dict[str, tuple]] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out[name] = {}
        for field, prop in schemas[name].get("properties", {}).items():
            out[name][field] = describe(prop, schemas, todo)
    return dict(sorted(out.items()))


def render(schema: dict, version: str) -> str:
    head = (
        '"""Field types of the request bodies the sandbox accepts, and of every schema they\n'
        f"reference (Xero OpenAPI spec v{version}). Descriptors: (\"str\", maxLength) (\"uuid\",)\n"
        '("num",) ("int",) ("bool",) ("date",) ("datetime",) ("enum", values) ("obj", schema)\n'
        '("arr", item) ("any",).\n\n'
        "Generated from vendor/xero-openapi/xero_accounting.yaml by scripts/request_schema.py; do not edit.\n"
        '"""\n\n'
        f"ROOTS = {ROOTS!r}\n\n"
    )
    lines = [head + "SCHEMAS: dict[str, dict[str, tuple]] = {"]
    for name, fields in schema.items():
        lines.append(f"    {name!r}: {{")
        items = [f"{field!r}: {desc!r}," for field, desc in fields.items()]
        lines.extend(textwrap.wrap(" ".join(items), width=100, initial_indent="        ",
                                   subsequent_indent="        ", break_on_hyphens=False,
                                   break_long_words=False))
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    return generate(__doc__.splitlines()[0], MODULE, "request_schema.py",
                    lambda spec: render(request_schema(spec), spec["info"]["version"]))


if __name__ == "__main__":
    sys.exit(main())
