"""The import page in Chromium, wide and phone-sized, with screenshots to look at."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clientflow_plugin.models import Invoice
from host_stub.extensions import db
from tests.clientflow.importing import (
    CLIENT_HEADER,
    EXAMPLES,
    INVOICE_HEADER,
    client_row,
    csv_bytes,
    invoice_row,
)
from tests.conftest import save_screenshot

WIDTHS = {"wide": 1280, "phone": 390}


def choose(page, kind: str, data: bytes, name: str) -> None:
    page.set_input_files(
        f"input[name={kind}]",
        {"name": name, "mimeType": "text/csv", "buffer": data},
    )


def open_page(page, browser_login, live_server_url, owner, width: int):
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, owner)
    page.goto(f"{live_server_url}/w/acme/clientflow/imports/")


@pytest.mark.parametrize("size", WIDTHS)
def test_the_upload_page_shows_its_three_files(
    page, browser_login, live_server_url, owner, size
):
    open_page(page, browser_login, live_server_url, owner, WIDTHS[size])

    save_screenshot(page, f"import-upload-{size}")
    assert page.locator("input[type=file]").count() == 3
    assert page.evaluate("document.body.scrollWidth") <= WIDTHS[size]


@pytest.mark.parametrize("size", WIDTHS)
def test_a_clean_check_then_import(page, browser_login, live_server_url, owner, size):
    open_page(page, browser_login, live_server_url, owner, WIDTHS[size])
    for kind in ("clients", "invoices", "payments"):
        choose(page, kind, (EXAMPLES / f"{kind}.csv").read_bytes(), f"{kind}.csv")

    page.click("button[type=submit]:has-text('Check files')")
    save_screenshot(page, f"import-check-{size}")
    page.click("button:has-text('Import')")

    assert "Imported 6 clients, 8 invoices" in page.inner_text(".flashes")
    assert page.evaluate("document.body.scrollWidth") <= WIDTHS[size]
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 8


@pytest.mark.parametrize("size", WIDTHS)
def test_problems_are_listed_without_an_import_button(
    page, browser_login, live_server_url, owner, size
):
    open_page(page, browser_login, live_server_url, owner, WIDTHS[size])
    rows = [
        invoice_row(client="C9"),
        invoice_row("F2", "2024/002", issue_date="31/02/2024"),
        invoice_row("F3", "2024/003", unit_price="1.500", stated_total="1.815,00"),
    ]
    choose(page, "clients", csv_bytes(CLIENT_HEADER, [client_row()]), "clientes.csv")
    choose(page, "invoices", csv_bytes(INVOICE_HEADER, rows), "facturas.csv")

    page.click("button[type=submit]:has-text('Check files')")
    save_screenshot(page, f"import-problems-{size}")

    assert page.locator(".cf-import-problems tbody tr").count() == 3
    assert page.locator("button:has-text('Import')").count() == 0
    assert page.evaluate("document.body.scrollWidth") <= WIDTHS[size]
