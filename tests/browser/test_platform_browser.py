"""What a person clicks: the owner finds ClientFlow, the manager never does."""

from __future__ import annotations

from tests.conftest import save_screenshot


def test_owner_signs_in_and_opens_clientflow(page, browser_login, owner, workspace):
    browser_login(page, owner)

    page.click("nav.sidenav >> text=ClientFlow")
    page.wait_for_url("**/clientflow/")
    save_screenshot(page, "owner-clientflow")

    assert page.locator("h1").first.inner_text() != ""
    assert "/clientflow/" in page.url


def test_manager_sees_no_clientflow_entry(
    page, browser_login, make_user, workspace, live_server_url
):
    manager = make_user("manager", workspace)

    browser_login(page, manager)
    save_screenshot(page, "manager-workspace")
    response = page.goto(f"{live_server_url}/w/{workspace.slug}/clientflow/")

    assert response.status == 403
    page.go_back()
    assert page.locator("nav.sidenav >> text=ClientFlow").count() == 0
