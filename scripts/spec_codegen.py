"""What scripts/known_fields.py and scripts/request_schema.py share: the vendored accounting
spec, and writing a generated module or (`--check`) failing when the committed one is stale."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "vendor" / "xero-openapi" / "xero_accounting.yaml"


def generate(description: str, module: Path, script: str, render: Callable[[dict], str]) -> int:
    """Render `module` from the spec; with --check, exit 1 if the committed file differs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="fail if the module differs from the spec")
    args = parser.parse_args()
    spec = yaml.load(SPEC.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    text = render(spec)
    name = module.relative_to(ROOT)
    if args.check:
        if module.read_text() != text:
            print(f"{name} is stale: run scripts/{script}", file=sys.stderr)
            return 1
        return 0
    module.write_text(text)
    print(f"wrote {name}")
    return 0
