"""The client-member area: a Client member sees only their own client's data."""

from __future__ import annotations

import pytest

from tests.clientflow.sending_factories import make_client, make_invoice, make_project


@pytest.fixture
def member(make_user, workspace):
    return make_user("client", workspace, display_name="Carla Client")


@pytest.fixture
def own_client(workspace, member):
    return make_client(workspace, name="Lumen Studio", portal_user_id=member.id)


@pytest.fixture
def member_client(app, login, member, own_client):
    return login(app.test_client(), member)


def home_of(http, workspace):
    return http.get(f"/w/{workspace.slug}/portal/")


def test_client_member_sees_own_issued_invoices(workspace, own_client, member_client):
    invoice = make_invoice(workspace, own_client)

    response = home_of(member_client, workspace)

    assert response.status_code == 200
    assert invoice.number in response.get_data(as_text=True)


def test_client_member_sees_own_projects(workspace, own_client, member_client):
    make_project(own_client, name="Brand refresh")

    page = home_of(member_client, workspace).get_data(as_text=True)

    assert "Brand refresh" in page


def test_client_member_never_sees_drafts(workspace, own_client, member_client):
    make_invoice(workspace, own_client, state="draft", description="Secret draft")

    page = home_of(member_client, workspace).get_data(as_text=True)

    assert "No invoices yet." in page


def test_client_member_never_sees_another_clients_data(
    workspace, own_client, member_client
):
    stranger = make_client(workspace, name="Other Corp")
    # The stranger's invoice would be number 0002: make the member's number 0001
    # visible too, so the page is known to list invoices at all.
    own = make_invoice(workspace, own_client)
    theirs = make_invoice(workspace, stranger)
    make_project(stranger, name="Other project")

    page = home_of(member_client, workspace).get_data(as_text=True)

    assert own.number in page
    assert theirs.number not in page
    assert "Other project" not in page
    assert "Other Corp" not in page


def test_client_member_opens_own_invoice(workspace, own_client, member_client):
    invoice = make_invoice(workspace, own_client)

    response = member_client.get(f"/w/{workspace.slug}/portal/invoices/{invoice.id}")

    assert response.status_code == 200
    assert invoice.number in response.get_data(as_text=True)


def test_client_member_downloads_own_invoice_pdf(workspace, own_client, member_client):
    invoice = make_invoice(workspace, own_client)

    response = member_client.get(
        f"/w/{workspace.slug}/portal/invoices/{invoice.id}/pdf"
    )

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"


@pytest.mark.parametrize("suffix", ["", "/pdf"])
def test_another_clients_invoice_is_404_for_a_client_member(
    workspace, own_client, member_client, suffix
):
    other = make_invoice(workspace, make_client(workspace, name="Other Corp"))

    response = member_client.get(
        f"/w/{workspace.slug}/portal/invoices/{other.id}{suffix}"
    )

    assert response.status_code == 404


def test_own_draft_is_404_for_a_client_member(workspace, own_client, member_client):
    draft = make_invoice(workspace, own_client, state="draft")

    response = member_client.get(f"/w/{workspace.slug}/portal/invoices/{draft.id}")

    assert response.status_code == 404


@pytest.mark.parametrize("role", ["agency_owner", "manager", "developer"])
def test_other_roles_get_no_portal_data(workspace, own_client, role_client, role):
    invoice = make_invoice(workspace, own_client)
    http = role_client(role)

    home = home_of(http, workspace)
    page = http.get(f"/w/{workspace.slug}/portal/invoices/{invoice.id}")

    assert home.status_code == 403
    assert page.status_code == 403


def test_unlinked_client_member_gets_403(workspace, own_client, role_client):
    make_invoice(workspace, own_client)

    response = home_of(role_client("client"), workspace)

    assert response.status_code == 403


def test_linked_member_of_another_workspace_gets_404(
    app, login, make_workspace, make_user, workspace, own_client
):
    elsewhere = make_workspace("elsewhere")
    outsider = make_user("client", elsewhere)
    make_client(elsewhere, portal_user_id=outsider.id)

    response = home_of(login(app.test_client(), outsider), workspace)

    assert response.status_code == 404


def test_anonymous_visitor_is_sent_to_log_in(app, workspace, own_client):
    response = home_of(app.test_client(), workspace)

    assert response.status_code == 302
    assert "/login" in response.location


def test_linked_client_member_sees_the_my_invoices_entry(
    workspace, own_client, member_client
):
    page = member_client.get(f"/w/{workspace.slug}/").get_data(as_text=True)

    assert "My invoices" in page
    assert "ClientFlow" not in page


def test_unlinked_client_member_sees_no_my_invoices_entry(workspace, role_client):
    page = role_client("client").get(f"/w/{workspace.slug}/").get_data(as_text=True)

    assert "My invoices" not in page


def test_owner_sees_no_my_invoices_entry(workspace, owner_client):
    page = owner_client.get(f"/w/{workspace.slug}/").get_data(as_text=True)

    assert "My invoices" not in page
