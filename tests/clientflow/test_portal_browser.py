"""What a client and an owner see in a real browser: the portal and the sharing page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clientflow_plugin import portal
from clientflow_plugin.clock import now_utc
from clientflow_plugin.models import Settings
from host_stub.extensions import db
from tests.clientflow.sending_factories import make_client, make_invoice, make_project
from tests.conftest import save_screenshot


@pytest.fixture
def invoice(workspace):
    db.session.get(
        Settings, workspace.id
    ).issuer_details = "Acme Design S.L.\nCalle Mayor 1, 28013 Madrid\nNIF B12345678"
    client = make_client(
        workspace,
        name="Françoise Müller",
        company="Müller & Γεωργίου GmbH",
        tax_id="DE123456789",
        billing_address="Friedrichstraße 12\n10117 Berlin",
    )
    return make_invoice(workspace, client, paid_minor=6000)


def link_url(live_server_url, workspace, invoice) -> str:
    token, _row = portal.create_link(invoice, actor_id=None)
    db.session.commit()
    return f"{live_server_url}/w/{workspace.slug}/portal/i/{token}"


def failed_requests(page) -> list[str]:
    """URLs the page asked for and did not get (the browser's favicon aside)."""
    failed: list[str] = []

    def check(response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            failed.append(f"{response.status} {response.url}")

    page.on("response", check)
    return failed


def test_portal_link_opens_in_a_fresh_browser(
    page, live_server_url, workspace, invoice
):
    url = link_url(live_server_url, workspace, invoice)
    failed = failed_requests(page)

    response = page.goto(url)
    save_screenshot(page, "portal-invoice")

    assert response.status == 200
    assert invoice.number in page.locator("h1").inner_text()
    assert (
        page.locator(".cf-portal-brand").inner_text().strip().endswith(workspace.name)
    )
    assert page.locator("nav.sidenav").count() == 0
    assert failed == []


def test_expired_link_shows_the_expired_page(page, live_server_url, workspace, invoice):
    url = link_url(live_server_url, workspace, invoice)
    for row in portal.links_of(invoice):
        row.expires_at = now_utc() - timedelta(days=1)
    db.session.commit()

    response = page.goto(url)
    save_screenshot(page, "portal-expired")

    assert response.status == 410
    assert "expired" in page.locator("h1").inner_text()


def test_owner_copies_a_portal_link(
    page, browser_login, live_server_url, owner, workspace, invoice
):
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server_url
    )
    browser_login(page, owner)
    page.goto(
        f"{live_server_url}/w/{workspace.slug}/clientflow/sending/{invoice.id}/link"
    )
    save_screenshot(page, "sending-actions")

    page.click("text=Copy portal link")
    page.click("button[data-copy-target]")
    page.wait_for_selector(".cf-copy-status:has-text('Copied')")
    save_screenshot(page, "sending-copy-link")

    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.input_value("#cf-portal-url")
    assert f"/w/{workspace.slug}/portal/i/" in copied


def test_client_member_sees_their_invoices(
    page, browser_login, live_server_url, make_user, workspace, invoice
):
    member = make_user("client", workspace, display_name="Françoise Müller")
    invoice.client.portal_user_id = member.id
    db.session.commit()
    make_project(invoice.client, name="Brand refresh")

    browser_login(page, member)
    page.click("nav.sidenav >> text=My invoices")
    page.wait_for_url("**/portal/")
    save_screenshot(page, "portal-member-home")
    page.click(f"text={invoice.number}")
    save_screenshot(page, "portal-member-invoice")

    assert invoice.number in page.locator("h1").inner_text()
