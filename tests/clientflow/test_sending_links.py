"""The owner's sharing page: copy a portal link, revoke links, download the PDF."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from clientflow_plugin import portal
from clientflow_plugin.models import PortalToken
from host_stub.extensions import db
from tests.clientflow.sending_factories import make_client, make_invoice

FIELD = re.compile(r'<input type="text" id="cf-portal-url"[^>]* value="([^"]+)"[^>]*>')


@pytest.fixture
def invoice(workspace):
    return make_invoice(workspace, make_client(workspace))


def url(workspace, invoice, tail):
    return f"/w/{workspace.slug}/clientflow/sending/{invoice.id}/{tail}"


def test_copy_link_shows_the_new_link_in_a_read_only_field(
    workspace, invoice, owner_client
):
    response = owner_client.post(url(workspace, invoice, "link"))

    page = response.get_data(as_text=True)
    field = FIELD.search(page)
    assert response.status_code == 200
    assert field is not None
    assert "readonly" in field.group(0)


def test_copied_link_opens_the_invoice(app, workspace, invoice, owner_client):
    page = owner_client.post(url(workspace, invoice, "link")).get_data(as_text=True)
    link = FIELD.search(page).group(1)

    response = app.test_client().get(urlsplit(link).path)

    assert response.status_code == 200
    assert invoice.number in response.get_data(as_text=True)


def test_copy_link_page_is_not_cached(workspace, invoice, owner_client):
    response = owner_client.post(url(workspace, invoice, "link"))

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_copy_button_comes_from_a_script_file(workspace, invoice, owner_client):
    page = owner_client.post(url(workspace, invoice, "link")).get_data(as_text=True)

    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all("src=" in tag for tag in scripts)
    assert "/_plugins/clientflow/static/sending.js" in page
    assert "style=" not in page


def test_copy_link_of_a_draft_is_refused(workspace, owner_client):
    draft = make_invoice(workspace, make_client(workspace), state="draft")

    owner_client.post(url(workspace, draft, "link"))

    page = owner_client.get(url(workspace, draft, "link")).get_data(as_text=True)
    assert "Only an issued invoice can have a portal link." in page
    assert db.session.scalars(select(PortalToken)).all() == []


def test_sharing_page_lists_active_links_with_revoke_buttons(
    workspace, invoice, owner_client
):
    _token, row = portal.create_link(invoice, actor_id=None)
    db.session.commit()

    page = owner_client.get(url(workspace, invoice, "link")).get_data(as_text=True)

    assert url(workspace, invoice, f"links/{row.id}/revoke") in page


def test_revoke_ends_the_link(app, workspace, invoice, owner_client):
    token, row = portal.create_link(invoice, actor_id=None)
    db.session.commit()

    owner_client.post(url(workspace, invoice, f"links/{row.id}/revoke"))

    response = app.test_client().get(f"/w/{workspace.slug}/portal/i/{token}")
    assert response.status_code == 404


def test_revoking_another_invoices_link_is_404(workspace, invoice, owner_client):
    other = make_invoice(workspace, invoice.client)
    _token, row = portal.create_link(other, actor_id=None)
    db.session.commit()

    response = owner_client.post(url(workspace, invoice, f"links/{row.id}/revoke"))

    assert response.status_code == 404
    assert db.session.get(PortalToken, row.id).revoked_at is None


def test_owner_downloads_the_pdf(workspace, invoice, owner_client):
    response = owner_client.get(url(workspace, invoice, "pdf"))

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=invoice-{invoice.number}.pdf"
    )


def test_owner_downloads_a_draft_pdf(workspace, owner_client):
    draft = make_invoice(workspace, make_client(workspace), state="draft")

    response = owner_client.get(url(workspace, draft, "pdf"))

    assert response.status_code == 200
    assert f"invoice-draft-{draft.id}.pdf" in response.headers["Content-Disposition"]


def test_another_workspaces_pdf_is_404(make_workspace, workspace, owner_client):
    elsewhere = make_workspace("elsewhere")
    foreign = make_invoice(elsewhere, make_client(elsewhere))

    response = owner_client.get(url(workspace, foreign, "pdf"))

    assert response.status_code == 404


def test_actions_offer_only_the_pdf_for_a_void_invoice(workspace, owner_client):
    void = make_invoice(workspace, make_client(workspace), state="void")

    page = owner_client.get(url(workspace, void, "link")).get_data(as_text=True)

    assert url(workspace, void, "pdf") in page
    assert url(workspace, void, "send") not in page
    assert "A void invoice cannot be sent" in page
