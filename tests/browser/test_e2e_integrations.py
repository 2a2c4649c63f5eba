"""The Integrations pages in Chromium: a token shown once, then the CSV files."""

from __future__ import annotations

from tests.conftest import save_screenshot


def test_owner_creates_a_token_that_is_shown_only_once(
    page, browser_login, owner, workspace, live_server_url
):
    root = f"{live_server_url}/w/{workspace.slug}/clientflow/integrations"
    browser_login(page, owner)

    page.goto(f"{root}/")
    save_screenshot(page, "integrations-01-tokens-empty")
    page.fill("input[name=name]", "Accounting sync")
    page.click("form[action$='/tokens'] button[type=submit]")
    page.wait_for_load_state()
    save_screenshot(page, "integrations-02-token-created")
    secret = page.input_value("#new-token")
    page.goto(f"{root}/")
    save_screenshot(page, "integrations-03-token-listed")

    assert secret.startswith("cf_")
    assert secret not in page.content()
    assert "Accounting sync" in page.locator("table.cf-tokens").inner_text()


def test_owner_downloads_the_invoices_file(
    page, browser_login, owner, workspace, live_server_url
):
    browser_login(page, owner)
    page.goto(f"{live_server_url}/w/{workspace.slug}/clientflow/integrations/exports")
    save_screenshot(page, "integrations-04-exports")

    with page.expect_download() as download:
        page.click("a[href$='/exports/invoices.csv']")

    assert download.value.suggested_filename.endswith(".csv")
    with open(download.value.path(), "rb") as file:
        assert file.read().startswith("\ufeff".encode())
