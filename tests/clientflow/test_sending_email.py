"""Sending an invoice by email through a real SMTP server on loopback."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from clientflow_plugin.models import AuditEvent, Interaction, Invoice, PortalToken
from host_stub.extensions import db
from tests.clientflow.sending_factories import make_client, make_invoice

LINK = re.compile(r"https?://[^\s\"<>]+/portal/i/[A-Za-z0-9._-]+")


@pytest.fixture
def invoice(workspace):
    client = make_client(workspace, name="Lumen Studio", email="ana@lumen.example")
    return make_invoice(workspace, client)


def send(http, workspace, invoice):
    """Press "Send by email", then open a page that shows the flashed message."""
    base = f"/w/{workspace.slug}/clientflow/sending/{invoice.id}"
    response = http.post(f"{base}/send")
    assert response.status_code == 303
    return http.get(f"{base}/link")


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_mail_goes_to_the_clients_address(
    workspace, invoice, owner_client, smtp_server
):
    send(owner_client, workspace, invoice)

    assert len(smtp_server) == 1
    message = smtp_server.last()
    assert message.envelope_rcpt == ["ana@lumen.example"]
    assert invoice.number in message["Subject"]
    assert workspace.name in message["Subject"]


def test_mail_link_opens_the_invoice_in_a_fresh_client(
    app, workspace, invoice, owner_client, smtp_server
):
    send(owner_client, workspace, invoice)
    url = LINK.search(text_of(smtp_server.last())).group(0)

    response = app.test_client().get(urlsplit(url).path)

    assert url.startswith("http://localhost/w/acme/portal/i/")
    assert response.status_code == 200
    assert invoice.number in response.get_data(as_text=True)


def test_mail_html_part_carries_the_same_link(
    workspace, invoice, owner_client, smtp_server
):
    send(owner_client, workspace, invoice)
    message = smtp_server.last()

    html = message.get_body(preferencelist=("html",)).get_content()

    assert LINK.search(html).group(0) == LINK.search(text_of(message)).group(0)


def test_mail_carries_the_invoice_pdf(workspace, invoice, owner_client, smtp_server):
    send(owner_client, workspace, invoice)

    attachments = list(smtp_server.last().iter_attachments())

    assert [a.get_filename() for a in attachments] == [f"invoice-{invoice.number}.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    text = pdf_text(attachments[0].get_content())
    assert invoice.number in text
    assert "Lumen Studio" in text


def test_sending_marks_the_invoice_sent_and_audits_it(
    workspace, invoice, owner, owner_client, smtp_server
):
    response = send(owner_client, workspace, invoice)

    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).sent_at is not None
    kinds = db.session.scalars(
        select(AuditEvent.kind).where(
            AuditEvent.invoice_id == invoice.id, AuditEvent.kind != "invoice_issued"
        )
    ).all()
    assert sorted(kinds) == ["invoice_sent", "portal_link_created"]
    flash = f"Invoice {invoice.number} sent to Lumen Studio."
    assert flash in response.get_data(as_text=True)


def test_sending_records_an_email_interaction_with_the_client(
    workspace, invoice, owner_client, smtp_server
):
    send(owner_client, workspace, invoice)

    kinds = db.session.scalars(
        select(Interaction.kind).where(Interaction.client_id == invoice.client_id)
    ).all()
    assert kinds == ["email"]


def test_mail_is_written_in_the_clients_language(
    make_user, workspace, invoice, owner_client, smtp_server
):
    reader = make_user("client", workspace, language="es")
    invoice.client.portal_user_id = reader.id
    db.session.commit()

    send(owner_client, workspace, invoice)

    # 163.35 EUR as Spanish writes it, whatever the owner reads.
    assert "163,35\xa0€" in text_of(smtp_server.last())


def test_mail_follows_the_workspace_language_without_a_portal_user(
    workspace, invoice, owner_client, smtp_server
):
    workspace.language = "es"
    db.session.commit()

    send(owner_client, workspace, invoice)

    assert "163,35\xa0€" in text_of(smtp_server.last())


def test_mail_server_down_gives_a_clear_message(
    workspace, invoice, owner_client, no_smtp_server
):
    response = send(owner_client, workspace, invoice)

    page = response.get_data(as_text=True)
    assert "The invoice was not sent: the mail server could not be reached" in page


def test_mail_server_down_records_nothing(
    workspace, invoice, owner_client, no_smtp_server
):
    send(owner_client, workspace, invoice)

    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).sent_at is None
    assert db.session.scalar(select(func.count()).select_from(PortalToken)) == 0
    kinds = db.session.scalars(select(AuditEvent.kind)).all()
    assert kinds == ["invoice_issued"]
    assert db.session.scalar(select(func.count()).select_from(Interaction)) == 0


def test_client_without_email_is_not_sent(workspace, owner_client, smtp_server):
    invoice = make_invoice(workspace, make_client(workspace, email=""))

    response = send(owner_client, workspace, invoice)

    assert "has no email address" in response.get_data(as_text=True)
    assert len(smtp_server) == 0
    assert db.session.get(Invoice, invoice.id).sent_at is None


def test_draft_is_not_sent(workspace, owner_client, smtp_server):
    draft = make_invoice(workspace, make_client(workspace), state="draft")

    response = send(owner_client, workspace, draft)

    assert "Only an issued invoice can be sent." in response.get_data(as_text=True)
    assert len(smtp_server) == 0


def test_another_workspaces_invoice_cannot_be_sent(
    make_workspace, owner_client, workspace, smtp_server
):
    elsewhere = make_workspace("elsewhere")
    foreign = make_invoice(elsewhere, make_client(elsewhere))

    response = owner_client.post(
        f"/w/{workspace.slug}/clientflow/sending/{foreign.id}/send"
    )

    assert response.status_code == 404
    assert len(smtp_server) == 0
