"""The clients pages in Chromium: cards, search, a client's page, phone width."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
import sqlalchemy as sa

from clientflow_plugin.demo_data import clients as demo_clients
from clientflow_plugin.models import Client, HourPack
from host_stub.extensions import db
from tests.clientflow.clients_factories import add_invoice
from tests.conftest import save_screenshot


@pytest.fixture
def agency(workspace, owner):
    """The demo agency's clients, a few of them billed."""
    demo_clients.seed(workspace, random.Random(7))
    db.session.commit()
    by_name = {
        c.name: c
        for c in db.session.scalars(
            sa.select(Client).where(Client.workspace_id == workspace.id)
        )
    }
    for number, (name, total) in enumerate(
        [
            ("Lucía Fernández", 1_250_075),
            ("Lucía Fernández", 480_000),
            ("Jorge Ramírez", 2_904_000),
            ("Andrés Castillo", 655_500),
            ("Isabel Moreno", 1_089_000),
        ],
        start=1,
    ):
        add_invoice(by_name[name], total, number=f"2026-{number:04d}")
    db.session.add(
        HourPack(
            workspace_id=workspace.id,
            client_id=by_name["Álvaro Gil"].id,
            hours_bought=Decimal(40),
            warn_below_hours=Decimal(5),
        )
    )
    db.session.commit()
    return by_name


def test_owner_searches_opens_a_client_and_logs_a_call(
    page, browser_login, live_server_url, owner, workspace, agency
):
    base = f"{live_server_url}/w/{workspace.slug}/clientflow/clients/"
    browser_login(page, owner)

    page.goto(base)
    save_screenshot(page, "clients-desktop")
    assert page.locator(".cf-client-card").count() == 24

    page.fill("input[name=q]", "espiga")
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state()
    card = page.locator(".cf-client-card")
    assert card.count() == 1
    assert card.locator(".cf-revenue").inner_text() == "€17,300.75"

    card.get_by_role("link", name="Open").click()
    page.wait_for_load_state()
    save_screenshot(page, "client-detail-desktop")
    assert page.locator("h1").inner_text() == "Lucía Fernández"

    page.get_by_text("Log an interaction").click()
    page.select_option("#kind", "call")
    page.fill("#summary", "Llamada: aprueban la tienda online.")
    page.get_by_role("button", name="Record interaction").click()
    page.wait_for_load_state()
    assert "Interaction recorded." in page.locator(".flashes").inner_text()
    assert "aprueban la tienda online" in page.locator(".cf-timeline").inner_text()


def test_project_status_select_saves_on_change(
    page, browser_login, live_server_url, owner, workspace, agency
):
    client = agency["Lucía Fernández"]
    browser_login(page, owner)
    page.goto(f"{live_server_url}/w/{workspace.slug}/clientflow/clients/{client.id}")
    first = page.locator(".cf-inline-status select").first

    with page.expect_navigation():
        first.select_option("paused")

    assert "is now Paused" in page.locator(".flashes").inner_text()


def test_clients_page_fits_a_phone(
    page, browser_login, live_server_url, owner, workspace, agency
):
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, owner)

    page.goto(f"{live_server_url}/w/{workspace.slug}/clientflow/clients/")
    save_screenshot(page, "clients-phone")
    client = agency["Jorge Ramírez"]
    page.goto(f"{live_server_url}/w/{workspace.slug}/clientflow/clients/{client.id}")
    save_screenshot(page, "client-detail-phone")

    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
