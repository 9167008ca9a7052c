"""known_fields.py is generated from the vendored spec; a stale module fails here."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_known_fields_match_the_vendored_spec():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "known_fields.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_specs_are_read_from_the_vendored_copy_only():
    """Every file that names the spec folder names the repository's own `vendor/` copy."""
    offenders = []
    for path in [*ROOT.glob("xero_sync/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py"),
                 *ROOT.glob("scripts/*.py")]:
        for line in path.read_text().splitlines():
            if "xero-openapi" in line and "vendor" not in line:
                offenders.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert offenders == []
