# Sourced by scripts/quickstart and scripts/test (after setting `extras`): a virtual environment
# with the pinned stack.
# Re-installs only when pyproject.toml changed (stamp file), so a second run starts at once.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extras="${extras:-}"  # set by the caller before sourcing: "" or "test"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then py="$candidate"; break; fi
  done
fi
[ -n "$py" ] || { echo "xero-sync: Python 3.11 or 3.12 is required (none found on PATH)" >&2; exit 1; }
"$py" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)' || {
  echo "xero-sync: $py is $("$py" --version 2>&1); Python 3.11 or 3.12 is required" >&2; exit 1; }
[ -x .venv/bin/python ] || "$py" -m venv .venv
# requirements.lock holds every package's exact version (scripts/lock writes it); its first line
# names the requirements it was made from (scripts/lock_hash: pyproject.toml's dependencies, not
# its tool settings), so a dependency change without a new lock is refused.
project_hash="$("$py" scripts/lock_hash)"
if ! head -n1 requirements.lock | grep -q "sha256 $project_hash "; then
  echo "xero-sync: requirements.lock was made for another pyproject.toml; run scripts/lock" >&2
  exit 1
fi
stamp=".venv/.installed-$(cat pyproject.toml sandbox/pyproject.toml requirements.lock | sha256sum | cut -c1-16)${extras:+-$extras}"
if [ ! -f "$stamp" ]; then
  echo "[setup] installing xero-sync, the Xero sandbox (sandbox/) and their locked dependencies into .venv (first run only)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c requirements.lock -e ".${extras:+[$extras]}" -e ./sandbox
  touch "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
