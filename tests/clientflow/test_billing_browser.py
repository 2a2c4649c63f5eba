"""The billing pages in a real browser, at desktop and phone widths.

Screenshots land in test-output/screenshots/billing-*.png for review.
"""

from __future__ import annotations

import random

import pytest

from clientflow_plugin.demo_data import billing as demo_billing
from host_stub.extensions import db
from tests.clientflow.billing_factories import new_client
from tests.conftest import save_screenshot

pytestmark = pytest.mark.slow

WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def billed_workspace(workspace):
    for name, region in (
        ("Lucía Fernández", "ES"),
        ("Jorge Ramírez", "MX"),
        ("Ana Costa", "ES-CN"),
        ("Martín Sosa", "AR"),
        ("Sofía Navarro", "ES"),
        ("Carlos Méndez", "ES"),
    ):
        new_client(workspace, name=name, region=region)
    demo_billing.seed(workspace, random.Random(7))
    db.session.commit()
    return workspace


def base_url(live_server_url, workspace) -> str:
    return f"{live_server_url}/w/{workspace.slug}/clientflow/billing"


@pytest.mark.parametrize("width", WIDTHS)
def test_invoices_page_colours_each_status(
    page, browser_login, owner, billed_workspace, live_server_url, width
):
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    browser_login(page, owner)

    page.goto(base_url(live_server_url, billed_workspace) + "/invoices")
    save_screenshot(page, f"billing-invoices-{width}")

    assert page.locator(".cf-bill-group-paid .cf-bill-group-head").count() == 1
    colour = page.locator(".cf-bill-group-overdue .cf-bill-group-head").evaluate(
        "el => getComputedStyle(el).color"
    )
    assert colour == "rgb(180, 35, 24)"


@pytest.mark.parametrize("width", WIDTHS)
def test_invoice_page_in_the_browser(
    page, browser_login, owner, billed_workspace, live_server_url, width
):
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    browser_login(page, owner)
    page.goto(base_url(live_server_url, billed_workspace) + "/invoices?status=pending")

    page.locator("a.cf-bill-number").first.click()
    page.wait_for_load_state()
    save_screenshot(page, f"billing-invoice-{width}")

    assert page.locator("#payments").count() == 1


@pytest.fixture
def page_without_js(browser):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_an_invoice_is_made_step_by_step_without_javascript(
    page_without_js, browser_login, owner, workspace, live_server_url
):
    page = page_without_js
    new_client(workspace, name="Lucía Fernández", region="ES")
    browser_login(page, owner)
    page.goto(base_url(live_server_url, workspace) + "/invoices")
    save_screenshot(page, "billing-empty-list-desktop")

    page.click("text=New invoice")
    save_screenshot(page, "billing-step1-client-desktop")
    page.click("button[type=submit] >> text=Continue to the lines")
    page.select_option("select[name=kind]", "hours")
    page.fill("input[name=description]", "Design sprint")
    page.fill("input[name=quantity]", "12.5")
    page.fill("input[name=unit_price]", "45.00")
    page.click("text=Add line")
    page.fill("input[name=description]", "Hosting, one year")
    page.fill("input[name=unit_price]", "120.00")
    page.fill("input[name=discount_percent]", "10")
    page.click("text=Add line")
    save_screenshot(page, "billing-step2-lines-desktop")
    page.click("text=Next: taxes")
    page.locator("input[type=checkbox]").nth(1).check()  # IRPF on the first line
    save_screenshot(page, "billing-step3-taxes-desktop")
    page.click("text=Save and review")
    page.fill("input[name=discount]", "50.00")
    page.click("text=Save draft")
    save_screenshot(page, "billing-step4-review-desktop")
    page.click(".cf-issue-button")
    save_screenshot(page, "billing-step5-issued-desktop")

    assert page.locator("h1").inner_text().startswith("Invoice 20")
    # Nets 562.50 + 108.00 less 50.00 = 620.50; IVA 21 % of 620.50 = 130.31;
    # IRPF -15 % of 520.55 (the first line less its 41.95 share) = -78.08.
    assert "€672.73" in page.content()


@pytest.mark.parametrize("width", WIDTHS)
def test_draft_steps_on_screen(
    page, browser_login, owner, billed_workspace, live_server_url, width
):
    from sqlalchemy import select

    from clientflow_plugin.models import Invoice

    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    draft_id = db.session.scalar(select(Invoice.id).where(Invoice.state == "draft"))
    browser_login(page, owner)
    url = base_url(live_server_url, billed_workspace)

    for step in ("lines", "taxes", "review"):
        page.goto(f"{url}/invoices/{draft_id}/{step}")
        save_screenshot(page, f"billing-draft-{step}-{width}")
    page.goto(f"{url}/settings")
    save_screenshot(page, f"billing-settings-{width}")

    assert page.locator(".cf-next-number").count() == 1
