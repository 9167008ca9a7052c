"""known_fields.py is generated from the vendored spec; a stale module fails here."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_known_fields_match_the_vendored_spec():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "known_fields.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_no_test_or_module_reads_outside_the_checkout():
    offenders = []
    for path in [*ROOT.glob("xero_sync/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py")]:
        text = path.read_text()
        if path.resolve() == Path(__file__).resolve():
            continue
        if "/work/" + "shared" in text or "../" + "shared" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
