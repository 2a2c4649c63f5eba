"""The dashboard in Chromium: four cards, three drawn charts that answer the mouse."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clientflow_plugin import clock
from tests.clientflow.dashboard_factories import Books
from tests.conftest import save_screenshot

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
MARKUP_NAME = '<img src=x onerror="alert(1)"> & Co'

CHARTS = ("monthly", "clients", "comparison")


@pytest.fixture
def books(workspace, monkeypatch) -> Books:
    """Two years of a small agency's books, with a client named in markup."""
    monkeypatch.setattr(clock, "now_utc", lambda: NOW)
    books = Books(workspace)
    names = ("Panadería La Espiga", "Ramírez Arquitectos", "Costa Surf School")
    clients = [books.client(name) for name in names]
    clients.append(books.client(MARKUP_NAME))
    for month in range(1, 13):
        for n, client in enumerate(clients):
            amount = 40_000 + 15_000 * n + 2_500 * month
            books.paid_invoice(
                client, amount, date(2025, month, 3), date(2025, month, 20)
            )
            if month <= 6:
                paid = date(2026, month, 15)
                books.paid_invoice(client, amount + 9_000, date(2026, month, 3), paid)
    books.invoice(clients[0], 123_456, date(2026, 4, 2), due=date(2026, 5, 2))
    books.invoice(clients[1], 80_000, date(2026, 6, 5), due=date(2026, 7, 5))
    books.opportunity(10_000, 99)
    books.opportunity(20_000, 0)
    books.opportunity(450_000, 50, stage="negotiation")
    return books


def open_dashboard(page, browser_login, owner, workspace, live_server_url):
    browser_login(page, owner)
    page.goto(f"{live_server_url}/w/{workspace.slug}/clientflow/")
    for name in CHARTS:
        page.wait_for_selector(f'canvas[data-chart="{name}"][data-chart-ready="true"]')
    return page


def screenshot_whole_page(page, name: str) -> str:
    """A full-page screenshot with the charts at rest.

    A full-page capture resizes the window, and Chart.js would redraw its
    charts during the capture; growing the window to the page first and
    waiting for the redraw keeps the picture as people see it.
    """
    width = page.viewport_size["width"]
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function(
        """() => [...document.querySelectorAll('canvas[data-chart]')].every(
            (canvas) => !Chart.animator.running(Chart.getChart(canvas)))"""
    )
    return save_screenshot(page, name)


def chart_point(page, name: str, dataset: int, index: int) -> dict:
    """Where on the page a bar, point or slice of a chart is drawn."""
    return page.evaluate(
        """([name, dataset, index]) => {
            const canvas = document.querySelector(`canvas[data-chart="${name}"]`);
            canvas.scrollIntoView({block: "center"});
            const chart = Chart.getChart(canvas);
            const spot = chart.getDatasetMeta(dataset).data[index].tooltipPosition();
            const box = canvas.getBoundingClientRect();
            return {x: box.left + spot.x, y: box.top + spot.y};
        }""",
        [name, dataset, index],
    )


def tooltip(page, name: str) -> dict:
    """The tooltip of a chart once it shows: title, lines and footer."""
    page.wait_for_function(
        """(name) => {
            const canvas = document.querySelector(`canvas[data-chart="${name}"]`);
            return Chart.getChart(canvas).tooltip.opacity > 0;
        }""",
        arg=name,
    )
    return page.evaluate(
        """(name) => {
            const canvas = document.querySelector(`canvas[data-chart="${name}"]`);
            const tip = Chart.getChart(canvas).tooltip;
            return {
                title: tip.title,
                lines: tip.body.flatMap((part) => part.lines),
                footer: tip.footer,
            };
        }""",
        name,
    )


def test_owner_sees_four_cards_and_three_drawn_charts(
    page, browser_login, owner, workspace, live_server_url, books
):
    open_dashboard(page, browser_login, owner, workspace, live_server_url)

    cards = page.locator("[data-metric]")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('canvas[data-chart]')].map((c) => ({
            name: c.dataset.chart,
            width: c.getBoundingClientRect().width,
            height: c.getBoundingClientRect().height,
            chart: Chart.getChart(c) !== undefined,
        }))"""
    )

    assert cards.count() == 4
    assert all(cards.nth(n).is_visible() for n in range(4))
    assert [s["name"] for s in sizes] == list(CHARTS)
    screenshot_whole_page(page, "dashboard-1280")

    assert all(s["width"] > 100 and s["height"] > 100 and s["chart"] for s in sizes)
    assert page.locator("details.cf-chart-data[open]").count() == 0


def test_dashboard_fits_a_phone_screen(
    page, browser_login, owner, workspace, live_server_url, books
):
    page.set_viewport_size({"width": 390, "height": 844})

    open_dashboard(page, browser_login, owner, workspace, live_server_url)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth"
    )
    screenshot_whole_page(page, "dashboard-390")

    assert overflow <= 0
    assert page.locator("[data-metric]").count() == 4


def test_monthly_tooltip_shows_formatted_amounts(
    page, browser_login, owner, workspace, live_server_url, books
):
    open_dashboard(page, browser_login, owner, workspace, live_server_url)
    spot = chart_point(page, "monthly", 1, 9)

    page.mouse.move(spot["x"], spot["y"])
    tip = tooltip(page, "monthly")

    assert tip["title"] == ["Apr 2026"]
    assert tip["lines"] == ["Invoiced: €4,494.56", "Collected: €3,260.00"]


def test_comparison_tooltip_shows_the_growth(
    page, browser_login, owner, workspace, live_server_url, books
):
    open_dashboard(page, browser_login, owner, workspace, live_server_url)
    spot = chart_point(page, "comparison", 1, 0)

    page.mouse.move(spot["x"], spot["y"])
    tip = tooltip(page, "comparison")

    assert tip["lines"] == ["2025: €2,600.00", "2026: €2,960.00"]
    assert tip["footer"] == ["Growth: +13.8 %"]


def test_legend_click_hides_and_shows_a_series(
    page, browser_login, owner, workspace, live_server_url, books
):
    open_dashboard(page, browser_login, owner, workspace, live_server_url)
    spot = page.evaluate(
        """() => {
            const canvas = document.querySelector('canvas[data-chart="monthly"]');
            const hit = Chart.getChart(canvas).legend.legendHitBoxes[0];
            const box = canvas.getBoundingClientRect();
            return {x: box.left + hit.left + hit.width / 2,
                    y: box.top + hit.top + hit.height / 2};
        }"""
    )
    visible = """() => Chart.getChart(
        document.querySelector('canvas[data-chart="monthly"]')).isDatasetVisible(0)"""

    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_function(f"() => !({visible})()")
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_function(visible)

    assert page.evaluate(visible) is True


def test_client_named_in_markup_shows_as_text_in_the_tooltip(
    page, browser_login, owner, workspace, live_server_url, books
):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_dashboard(page, browser_login, owner, workspace, live_server_url)
    labels = page.evaluate(
        """() => Chart.getChart(document.querySelector('canvas[data-chart="clients"]'))
            .data.labels"""
    )
    slice_of_markup = labels.index(MARKUP_NAME)
    spot = chart_point(page, "clients", 0, slice_of_markup)

    page.mouse.move(spot["x"], spot["y"])
    tip = tooltip(page, "clients")

    assert tip["title"] == [MARKUP_NAME]
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == []
