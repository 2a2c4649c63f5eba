"""Sending an invoice to its client: an email with the portal link and the PDF.

The message is written in the reader's language: the language of the host
user who logs in as the client when there is one, else the workspace's.
Nothing is recorded as sent unless the mail server accepted the message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from host_stub.sdk import MailError, User, Workspace, db, send_mail

from . import audit, portal
from .clock import now_utc, today_in
from .models import (
    Client,
    Interaction,
    InteractionKind,
    Invoice,
    InvoiceState,
    PortalToken,
)
from .pdf import filename_of, render_invoice_pdf

logger = logging.getLogger(__name__)


class SendError(Exception):
    """The invoice could not be sent; the message is meant for the owner."""


@dataclass(frozen=True)
class SentInvoice:
    invoice_id: int
    link_id: int
    message_id: str


def reader_language(client: Client, workspace: Workspace) -> str:
    """The language the client reads: their user's preference, else the agency's."""
    languages = current_app.config.get("LANGUAGES", ["en"])
    if client.portal_user_id is not None:
        user = db.session.get(User, client.portal_user_id)
        if user is not None and user.language in languages:
            return user.language
    if workspace.language in languages:
        return workspace.language
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def portal_url(workspace: Workspace, token: str) -> str:
    """The absolute URL of a portal link (needs a request or ``SERVER_NAME``)."""
    return url_for(
        "clientflow_portal.invoice",
        workspace=workspace.slug,
        token=token,
        _external=True,
    )


def send_invoice(invoice: Invoice, *, actor_id: int | None) -> SentInvoice:
    """Email ``invoice`` to its client with a new portal link and the PDF.

    On success the link, ``Invoice.sent_at``, the audit events and an email
    interaction of the client are committed. When the mail server fails,
    ``SendError`` is raised and the database is left as it was.
    """
    if invoice.state != InvoiceState.ISSUED:
        raise SendError(_("Only an issued invoice can be sent."))
    client = invoice.client
    if not (client.email or "").strip():
        raise SendError(
            _("%(client)s has no email address; add one first.", client=client.name)
        )
    workspace = db.session.get(Workspace, invoice.workspace_id)
    language = reader_language(client, workspace)

    # The link row must exist before its URL can be written into the mail; it
    # is committed first so no transaction stays open while SMTP talks.
    token, link = portal.create_link(invoice, actor_id=actor_id, record=False)
    db.session.commit()
    link_id = link.id

    try:
        with force_locale(language):
            context = {
                "invoice": invoice,
                "client": client,
                "workspace": workspace,
                "url": portal_url(workspace, token),
                "expires_on": today_in(workspace, link.expires_at),
            }
            subject = _(
                "Invoice %(number)s from %(agency)s",
                number=invoice.number,
                agency=workspace.name,
            )
            text = render_template("clientflow/sending/invoice_email.txt", **context)
            html = render_template("clientflow/sending/invoice_email.html", **context)
            pdf = render_invoice_pdf(invoice, locale=language)
        message_id = send_mail(
            client.email.strip(),
            subject,
            text,
            html=html,
            attachments=[(filename_of(invoice), "application/pdf", pdf)],
        )
    except MailError as exc:
        _forget_link(link_id)
        logger.warning("invoice %s not sent: the mail server failed", invoice.id)
        raise SendError(
            _(
                "The invoice was not sent: the mail server could not be reached "
                "or refused the message. Nothing was recorded; try again later."
            )
        ) from exc
    except Exception:
        _forget_link(link_id)
        raise

    invoice.sent_at = now_utc()
    portal.record_created(invoice, link, actor_id=actor_id)
    audit.record(
        invoice.workspace_id,
        "invoice_sent",
        invoice_id=invoice.id,
        user_id=actor_id,
        detail=f"by email with PDF and portal link {link_id}",
    )
    db.session.add(
        Interaction(
            workspace_id=invoice.workspace_id,
            client_id=client.id,
            kind=InteractionKind.EMAIL,
            occurred_at=invoice.sent_at,
            summary=_("Invoice %(number)s sent", number=invoice.number),
            user_id=actor_id,
        )
    )
    db.session.commit()
    logger.info("invoice %s sent by %s", invoice.id, actor_id)
    return SentInvoice(invoice.id, link_id, message_id)


def _forget_link(link_id: int) -> None:
    """Delete a link whose mail never left; nobody ever received its token."""
    db.session.rollback()
    row = db.session.get(PortalToken, link_id)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
