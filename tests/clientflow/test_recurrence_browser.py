"""The recurring pages in Debian's Chromium, at desktop and phone widths."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from clientflow_plugin import recurrence
from clientflow_plugin.clock import now_utc, today_in
from clientflow_plugin.models import JobRun, Reminder
from host_stub.extensions import db
from tests.clientflow.recurring_factories import (
    make_client,
    make_invoice,
    make_pack,
    make_template,
)
from tests.conftest import save_screenshot

WIDTHS = (1280, 390)


@pytest.fixture
def agency(workspace):
    """Templates, a schedule that has run, packs and a late scheduler."""
    lumen = make_client(workspace)
    north = make_client(
        workspace, name="Northwind Traders", email="ap@northwind.example"
    )
    retainer = make_template(
        workspace, lumen, anchor=today_in(workspace) - timedelta(days=70)
    )
    recurrence.run_schedules()
    pack_template = make_template(
        workspace,
        north,
        kind="hour_pack",
        frequency="none",
        anchor=None,
        hours_in_pack=Decimal(20),
        price_minor=7500,
        name="Support hours, 20 h",
    )
    pack = make_pack(workspace, north, hours="20", template_id=pack_template.id)
    make_invoice(workspace, north, hours=Decimal("16.5"), hour_pack=pack)
    make_pack(workspace, lumen, hours="40", warn_below="5")
    late = now_utc() - timedelta(days=2)
    db.session.add(
        JobRun(job="run-schedules", started_at=late, finished_at=late, summary="ok")
    )
    overdue = make_invoice(
        workspace, lumen, due_date=today_in(workspace) - timedelta(days=12)
    )
    db.session.add(Reminder(invoice_id=overdue.id, step_days=3, sent_at=late))
    db.session.commit()
    return {"retainer": retainer.id}


def page_paths(ids) -> dict[str, str]:
    base = "/w/acme/clientflow/recurring"
    return {
        "templates": f"{base}/",
        "template": f"{base}/{ids['retainer']}",
        "new-preset": f"{base}/new?preset=project",
        "packs": f"{base}/packs",
        "reminders": f"{base}/reminders",
    }


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "name", ["templates", "template", "new-preset", "packs", "reminders"]
)
def test_recurring_pages_fit_the_screen(
    page, browser_login, live_server_url, owner, agency, name, width
):
    browser_login(page, owner)
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(live_server_url + page_paths(agency)[name])
    save_screenshot(page, f"recurring-{name}-{width}")

    assert page.locator("h1").count() == 1
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
