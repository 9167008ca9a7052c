"""Regenerate the migration files of every earlier head in main's history (run from the checkout).

    .venv/bin/python tests/store/migration_history/generate.py [REF (default main)]

For every commit that changed the migrations (`xero_sync/store/migrations/versions/`, before the move
`xero_sync/store/migrations/versions/`; all parents of merges), the
migration files it had are stored once each under `files/` (named by revision and blob) and
`heads.json` lists, per distinct set, the commit and its files. A store made at that commit is one
that `test_migration_history.py` upgrades with today's code. Git is needed only here, never by the
tests.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Where the migrations lived over time (platform/ until the store got its own package).
VERSIONS = ("xero_sync/store/migrations/versions/", "xero_sync/store/migrations/versions/")


def git(*args: str) -> str:
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=HERE, check=True,
                          capture_output=True, text=True).stdout.strip()
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def main(ref: str = "main") -> None:
    commits = git("rev-list", "--full-history", "--reverse", ref, "--", *VERSIONS).split()
    seen: dict[tuple[str, ...], str] = {}
    heads = []
    files_dir = HERE / "files"
    files_dir.mkdir(exist_ok=True)
    for old in files_dir.glob("*.py"):
        old.unlink()
    for commit in commits:
        entries = [line.split() for line in git("ls-tree", commit, *VERSIONS).splitlines()]
        blobs = tuple(sorted((Path(path).name, blob) for _mode, _type, blob, path in entries
                             if path.endswith(".py")))
        if blobs in seen:
            continue
        names = []
        for name, blob in blobs:
            stored = f"{name[:-3]}_{blob[:8]}.py"
            (files_dir / stored).write_text(git("cat-file", "-p", blob))
            names.append(stored)
        revisions = {re.search(r'^revision = "(\w+)"', (files_dir / n).read_text(), re.M).group(1): n for n in names}
        downs = {re.search(r'^down_revision = (?:"(\w+)"|None)', (files_dir / n).read_text(), re.M).group(1)
                 for n in names}
        head = sorted(set(revisions) - downs)
        assert len(head) == 1, (commit, head)
        seen[blobs] = commit
        subject = git("log", "-1", "--format=%s", commit).strip()[:100]
        heads.append({"commit": commit[:12], "subject": subject, "head": head[0], "files": names})
    (HERE / "heads.json").write_text(json.dumps(heads, indent=1) + "\n")
    print(f"{len(heads)} distinct migration sets from {len(commits)} commits")


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:])
