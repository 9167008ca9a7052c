"""`xero-sync signin-link`: a one-time link, signed as the dashboard signs them, that opens the
partner's page on the real-mode server (waitress) once; bad arguments are one clear line."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.web.real_mode import RealWeb, serve_real
from tests.web.test_deployment import PUBLIC, cli


@pytest.fixture
def real_web(db_url, tmp_path, monkeypatch) -> Iterator[RealWeb]:
    yield from serve_real(db_url, tmp_path, monkeypatch)


def test_the_printed_link_opens_the_partners_page_once(real_web: RealWeb):
    done = cli(real_web.env, "signin-link", "--partner", "acme", "--minutes", "2", "--name", "Acme MSP")
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith(f"{PUBLIC}/signin/assertion?token=")
    parts = urlsplit(link)
    browser = real_web.browser()
    assert browser.get(f"{parts.path}?{parts.query}").status == 303
    page = browser.get("/integrations")
    assert page.status == 200 and "acme" in page.text
    assert real_web.browser().get(f"{parts.path}?{parts.query}").status == 401  # once


def test_bad_arguments_are_one_line(real_web: RealWeb):
    for argv, words in ((["--partner", "acme", "--minutes", "600"], "between 1 and 10"),
                        (["--partner", "Not|Valid"], "--partner")):
        done = cli(real_web.env, "signin-link", *argv)
        assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
    env = {**real_web.env, "XERO_SYNC_SIGNIN_SECRET": "", "XERO_SYNC_SIGNIN_JWKS_URL": "https://dash.example/jwks"}
    done = cli(env, "signin-link", "--partner", "acme")
    assert done.returncode == 2 and "dashboard signs them" in done.stderr, done.stderr
