"""Sending a message to a client through a real SMTP server on loopback."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clientflow_plugin.clients import client_figures
from clientflow_plugin.models import Interaction
from host_stub.extensions import db
from tests.clientflow.clients_factories import add_client, add_interaction, utc


@pytest.fixture
def client_record(workspace):
    return add_client(workspace, email="lucia@laespiga.example")


@pytest.fixture
def message_url(workspace, client_record) -> str:
    return f"/w/{workspace.slug}/clientflow/clients/{client_record.id}/message"


def interactions() -> list[Interaction]:
    return list(db.session.scalars(sa.select(Interaction)))


def test_message_arrives_at_the_client(owner_client, message_url, smtp_server, owner):
    response = owner_client.post(
        message_url,
        data={"subject": "Maquetas listas", "body": "Hola Lucía,\nya están."},
    )

    assert response.status_code == 302
    message = smtp_server.last()
    assert message.envelope_rcpt == ["lucia@laespiga.example"]
    assert message["Subject"] == "Maquetas listas"
    assert message["Reply-To"] == owner.email
    assert message.get_content().replace("\r\n", "\n").strip() == (
        "Hola Lucía,\nya están."
    )


def test_sent_message_is_recorded_as_an_email_interaction(
    owner_client, message_url, smtp_server, owner
):
    owner_client.post(message_url, data={"subject": "Maquetas", "body": "Listas."})

    [interaction] = interactions()
    assert (interaction.kind, interaction.summary, interaction.user_id) == (
        "email",
        "Maquetas\n\nListas.",
        owner.id,
    )


def test_sent_message_moves_the_last_interaction(
    owner_client, message_url, smtp_server, workspace, client_record
):
    add_interaction(client_record, utc(2025, 1, 1))

    owner_client.post(message_url, data={"subject": "Hola", "body": "Qué tal."})

    card = client_figures(workspace.id, client_record.id)
    assert card.last_interaction_at > utc(2025, 1, 1)
    assert card.last_interaction_at == max(i.occurred_at for i in interactions())


def test_mail_server_down_is_explained_and_nothing_recorded(
    owner_client, message_url, no_smtp_server
):
    response = owner_client.post(message_url, data={"subject": "Hola", "body": "Hi"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The message was not sent" in page
    assert "Nothing was recorded" in page
    assert interactions() == []


def test_mail_server_refusing_the_message_records_nothing(
    app, owner_client, message_url, smtp_server, monkeypatch
):
    from aiosmtpd.smtp import SMTP

    async def refuse(self, arg):
        await self.push("554 5.7.1 Message refused")

    monkeypatch.setattr(SMTP, "smtp_DATA", refuse)

    response = owner_client.post(message_url, data={"subject": "Hola", "body": "Hi"})

    assert "The message was not sent" in response.get_data(as_text=True)
    assert len(smtp_server) == 0
    assert interactions() == []


def test_subject_with_a_line_break_is_refused(owner_client, message_url, smtp_server):
    response = owner_client.post(
        message_url, data={"subject": "Hola\r\nBcc: x@evil.example", "body": "Hi"}
    )

    assert response.status_code == 422
    assert "Remove the control characters" in response.get_data(as_text=True)
    assert len(smtp_server) == 0
    assert interactions() == []


def test_empty_message_is_refused(owner_client, message_url, smtp_server):
    response = owner_client.post(message_url, data={"subject": "Hola", "body": ""})

    assert response.status_code == 422
    assert len(smtp_server) == 0


def test_client_without_email_cannot_be_messaged(owner_client, workspace, smtp_server):
    client = add_client(workspace, "Ana Costa", email="")
    url = f"/w/{workspace.slug}/clientflow/clients/{client.id}/message"

    response = owner_client.post(url, data={"subject": "Hola", "body": "Hi"})

    assert response.status_code == 422
    assert "has no email address" in response.get_data(as_text=True)
    assert len(smtp_server) == 0
    assert interactions() == []
