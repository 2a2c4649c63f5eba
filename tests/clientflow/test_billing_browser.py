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
