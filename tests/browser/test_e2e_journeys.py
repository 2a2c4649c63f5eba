"""End to end, in Debian's Chromium: the demo owner bills a new client; the
demo manager never meets ClientFlow.

The demo workspace is seeded as ``flask seed-demo`` seeds it (in Spanish, as
its owner reads it), so selectors name forms and classes, not words. Every
page is kept as a screenshot under test-output/screenshots/e2e-*.png.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from host_stub.cli import DEMO_PASSWORD
from host_stub.extensions import db
from host_stub.models import User
from tests.conftest import save_screenshot

pytestmark = pytest.mark.slow

PORTAL_LINK = re.compile(r"https?://[^\s\"'<>]+/portal/i/[A-Za-z0-9._\-]+")


@pytest.fixture
def demo(app):
    """The demo workspace, seeded by the real command."""
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return "demo"


def demo_user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def amount(text: str) -> Decimal:
    """A figure as the dashboard prints it in Spanish ("12.345,67 €")."""
    digits = re.sub(r"[^\d,.-]", "", text)
    return Decimal(digits.replace(".", "").replace(",", "."))


def card_value(page, metric: str) -> Decimal:
    return amount(page.locator(f"[data-metric={metric}] .value").inner_text())


def test_owner_bills_a_new_client_and_sees_the_payment_on_the_dashboard(
    page, browser, browser_login, live_server_url, smtp_server, demo
):
    root = f"{live_server_url}/w/{demo}/clientflow"

    browser_login(page, demo_user("owner@demo.example"), password=DEMO_PASSWORD)
    save_screenshot(page, "e2e-01-owner-workspace")
    page.click("nav.sidenav a.nav-clientflow")
    page.wait_for_url(f"{root}/")
    save_screenshot(page, "e2e-02-owner-dashboard-before")
    revenue_before = card_value(page, "revenue")
    pending_before = card_value(page, "pending")

    page.goto(f"{root}/clients/new")
    page.fill("input[name=name]", "Estudio Prueba E2E")
    page.fill("input[name=email]", "facturas@prueba-e2e.example")
    page.fill("input[name=region]", "ES")
    save_screenshot(page, "e2e-03-new-client")
    page.click("form.cf-client-form button[type=submit].primary")
    page.wait_for_load_state()
    save_screenshot(page, "e2e-04-client")
    assert "Estudio Prueba E2E" in page.locator("h1").inner_text()
    client_id = re.search(r"/clients/(\d+)", page.url).group(1)

    page.goto(f"{root}/billing/invoices/new?client_id={client_id}")
    save_screenshot(page, "e2e-05-invoice-client")
    page.click("form button[type=submit].primary")
    page.wait_for_load_state()
    page.select_option("form.cf-line-form select[name=kind]", "hours")
    page.fill("form.cf-line-form input[name=description]", "Diseño de la web")
    page.fill("form.cf-line-form input[name=quantity]", "10")
    page.fill("form.cf-line-form input[name=unit_price]", "50")
    page.click("form.cf-line-form button[type=submit]")
    page.wait_for_load_state()
    save_screenshot(page, "e2e-06-invoice-lines")
    page.click("nav.cf-step-nav a.primary")
    page.wait_for_load_state()
    save_screenshot(page, "e2e-07-invoice-taxes")
    page.click("button[name=next]")
    page.wait_for_load_state()
    save_screenshot(page, "e2e-08-invoice-review")
    page.click(".cf-issue-button")
    page.wait_for_load_state()
    save_screenshot(page, "e2e-09-invoice-issued")
    invoice_url = page.url
    heading = page.locator("h1").inner_text()
    assert re.search(r"\d{4}-\d{4}", heading), heading

    page.click("form[action$='/send'] button[type=submit]")
    page.wait_for_load_state()
    save_screenshot(page, "e2e-10-invoice-sent")
    assert len(smtp_server) == 1
    message = smtp_server.last()
    assert message.envelope_rcpt == ["facturas@prueba-e2e.example"]
    body = message.get_body(preferencelist=("plain", "html")).get_content()
    link = PORTAL_LINK.search(body).group(0)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        portal = context.new_page()
        response = portal.goto(link)
        save_screenshot(portal, "e2e-11-portal")
        assert response.status == 200
        assert re.search(r"\d{4}-\d{4}", portal.locator("h1").inner_text())
        assert portal.locator("nav.sidenav").count() == 0
    finally:
        context.close()

    page.goto(invoice_url)
    page.fill("form.cf-payment-form input[name=amount]", "200")
    page.click("form.cf-payment-form button[type=submit]")
    page.wait_for_load_state()
    save_screenshot(page, "e2e-12-payment-recorded")
    assert page.locator("#payments table").count() == 1

    page.goto(f"{root}/")
    save_screenshot(page, "e2e-13-owner-dashboard-after")
    # 10 h × 50.00 + IVA 21 % = 605.00 issued; 200.00 of it paid today.
    assert card_value(page, "revenue") - revenue_before == Decimal("200.00")
    assert card_value(page, "pending") - pending_before == Decimal("405.00")


def test_manager_finds_no_clientflow_anywhere(
    page, browser_login, live_server_url, demo
):
    workspace_root = f"{live_server_url}/w/{demo}"

    browser_login(page, demo_user("manager@demo.example"), password=DEMO_PASSWORD)
    pages = {
        "e2e-20-manager-workspace": f"{workspace_root}/",
        "e2e-21-manager-members": f"{workspace_root}/members",
        "e2e-22-manager-account": f"{live_server_url}/account",
        "e2e-23-manager-home": f"{live_server_url}/",
    }
    for name, url in pages.items():
        page.goto(url)
        save_screenshot(page, name)
        assert page.locator("a.nav-clientflow").count() == 0, url
        assert "/clientflow" not in page.content(), url
        assert "ClientFlow" not in page.locator("body").inner_text(), url

    response = page.goto(f"{workspace_root}/clientflow/")
    save_screenshot(page, "e2e-24-manager-clientflow-refused")
    assert response.status == 403
