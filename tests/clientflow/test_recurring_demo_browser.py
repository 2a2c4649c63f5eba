"""The demo's recurring billing in Debian's Chromium, as someone trying it sees it.

The demo is seeded by the real command; the templates page, the client with
the hour packs and an overdue invoice with reminders are kept as
screenshots under test-output/screenshots/demo-recurring-*.png.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clientflow_plugin.models import HourPack, Reminder
from host_stub.cli import DEMO_PASSWORD
from host_stub.extensions import db
from host_stub.models import User
from tests.conftest import save_screenshot

pytestmark = pytest.mark.slow

WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def demo_root(app, live_server_url):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return f"{live_server_url}/w/demo/clientflow"


@pytest.fixture
def demo_owner(demo_root):
    return db.session.scalar(sa.select(User).where(User.email == "owner@demo.example"))


def fits_the_screen(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_demo_recurring_pages_show_templates_packs_and_reminders(
    page, browser_login, demo_root, demo_owner, width
):
    pack = db.session.scalars(sa.select(HourPack)).first()
    invoice_id = db.session.scalar(
        sa.select(Reminder.invoice_id)
        .group_by(Reminder.invoice_id)
        .order_by(sa.func.count().desc(), Reminder.invoice_id)
        .limit(1)
    )
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    browser_login(page, demo_owner, password=DEMO_PASSWORD)

    page.goto(f"{demo_root}/recurring/")
    save_screenshot(page, f"demo-recurring-templates-{width}")
    templates = page.locator(".cf-rec-list tbody tr").count()
    warned = page.locator(".cf-rec-health").count()
    templates_fit = fits_the_screen(page)

    page.goto(f"{demo_root}/clients/{pack.client_id}")
    save_screenshot(page, f"demo-recurring-client-hours-{width}")
    low = page.locator(".cf-rec-hours.is-low").is_visible()
    client_fits = fits_the_screen(page)

    page.goto(f"{demo_root}/billing/invoices/{invoice_id}")
    save_screenshot(page, f"demo-recurring-invoice-reminders-{width}")
    sent = page.locator(".cf-rec-reminders .cf-rec-sent").count()

    assert (templates, warned) == (5, 0)
    assert low
    assert sent >= 2
    assert templates_fit and client_fits
