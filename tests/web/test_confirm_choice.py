"""The Confirm page and `xero-sync connect --tenant` choose exactly what Xero says was just
authorised (the `authEventId` of this consent), never by list order."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from tests.web.conftest import hidden_fields
from xero_sync.commands.cli import UserError
from xero_sync.commands.connect import _connect_command
from xero_sync.config import DEMO_CLIENT_ID, SCOPES
from xero_sandbox.oauth import DEMO_USER

_CHECKED = re.compile(r'<input type="radio" name="tenant_id" value="([^"]+)" checked')


def preselected(page: str) -> str:
    """The tenant the Confirm form submits if the partner just presses Confirm."""
    checked = _CHECKED.findall(page)
    return checked[0] if checked else hidden_fields(page)["tenant_id"]


def link_earlier(web, *tenant_ids: str) -> None:
    """This Xero user already connected these organisations to the app (in that order, a minute
    apart on the sandbox's clock), e.g. from another partner account or an earlier consent."""
    registry = web.sandbox.sandbox.oauth
    grant = registry.grant_for(DEMO_CLIENT_ID, DEMO_USER, SCOPES)
    for tenant_id in tenant_ids:
        registry.connect(grant, tenant_id, web.sandbox.sandbox.orgs[tenant_id].name)
        web.sandbox.sandbox.clock.advance(60)


def test_picking_the_first_organisation_while_the_second_is_linked_preselects_and_links_the_first(web):
    first, second = web.tenants
    link_earlier(web, first, second)  # #2 is the user's newest connection
    client = web.client("acme")
    page = client.get(web.consent(web.start_connect(client), tenant_id=first))
    assert page.status_code == 200, page.text
    assert preselected(page.text) == first
    assert web.sandbox.sandbox.orgs[first].name in page.text
    answer = client.post("/integrations/xero/confirm", data={**hidden_fields(page.text), "action": "confirm"})
    assert answer.status_code == 302, answer.text
    assert web.connection("acme").tenant_id == first


def test_an_organisation_not_authorised_in_this_consent_cannot_be_confirmed(web):
    first, second = web.tenants
    link_earlier(web, second)
    client = web.client("acme")
    page = client.get(web.consent(web.start_connect(client), tenant_id=first))
    assert web.sandbox.sandbox.orgs[second].name not in page.text
    forged = client.post("/integrations/xero/confirm",
                         data={**hidden_fields(page.text), "tenant_id": second, "action": "confirm"})
    assert forged.status_code == 400
    assert web.connection("acme").tenant_id is None


@pytest.mark.parametrize("pick", [0, 1])
def test_connect_tenant_links_exactly_that_tenant(web, pick, capsys):
    link_earlier(web, *web.tenants)  # both already linked to the Xero user, #2 newest
    tenant = web.tenants[pick]
    args = SimpleNamespace(sandbox=True, partner=f"p{pick}", name=None, tenant=tenant)
    assert _connect_command(args) == 0
    assert web.connection(f"p{pick}").tenant_id == tenant
    assert tenant in capsys.readouterr().out


def test_connect_refuses_a_tenant_the_sandbox_does_not_offer(web):
    args = SimpleNamespace(sandbox=True, partner="acme", name=None, tenant="00000000-0000-0000-0000-000000000000")
    with pytest.raises(UserError, match="not one of the sandbox's organisations"):
        _connect_command(args)
    assert web.connection("acme") is None
