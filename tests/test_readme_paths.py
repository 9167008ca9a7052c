"""Every file or folder the README points a newcomer to exists (relative to the repository, or
to `xero_sync/` for the package's own parts), and every doc it links is committed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _pointed_paths() -> list[str]:
    in_code = re.findall(r"`([^`\s]+)`", README)
    in_map = re.findall(r"^\S.{0,13}?\s{2,}([a-z_./]+/|[a-z_]+\.py)\s", README, re.M)
    in_map += re.findall(r"^\s{14}([a-z_./]+/|[a-z_]+\.py)\s", README, re.M)
    words = [w for part in in_code + in_map for w in part.split()]
    return sorted({w.split("(")[0].rstrip(",:.") for w in words
                   if re.fullmatch(r"[\w./-]+", w) and _looks_like_a_path(w)})


def _looks_like_a_path(word: str) -> bool:
    """A folder (`push/`), a file (`sync/rules.py`) or a script; not a tag or metadata key such as
    `xero/partner` or `dagster/row_count`, nor a URL."""
    if word.startswith(("http", "/", "sqlite", "postgresql", "$", ".", "dagster/")):
        return False
    return word.endswith("/") or bool(re.search(r"\.(py|md|toml|html|yaml|lock)$", word)) or word.startswith("scripts/")


def _exists(path: str) -> bool:
    return any((base / path).exists() for base in (ROOT, ROOT / "xero_sync", ROOT / "xero_sync" / "web"))


def test_every_path_the_readme_names_exists() -> None:
    paths = _pointed_paths()
    assert len(paths) > 30, paths  # the map and the where-to-look table are parsed
    assert [p for p in paths if not _exists(p)] == []


def test_every_linked_doc_exists() -> None:
    links = re.findall(r"\]\(([^)#\s]+)\)", README)
    assert links and [link for link in links if not (ROOT / link).exists()] == []
