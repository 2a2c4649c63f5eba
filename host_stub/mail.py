"""Outgoing mail through any SMTP server, and the development outbox server."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

logger = logging.getLogger(__name__)


class MailError(Exception):
    """The mail server refused the message or could not be reached."""


def send_mail(
    to: str | Iterable[str],
    subject: str,
    text: str,
    *,
    html: str | None = None,
    reply_to: str | None = None,
    sender: str | None = None,
    attachments: Iterable[tuple[str, str, bytes]] = (),
) -> str:
    """Send one message and return its Message-ID; raise ``MailError`` on failure.

    ``attachments`` holds ``(filename, mime type, content)`` triples.
    """
    cfg = current_app.config
    recipients = [to] if isinstance(to, str) else list(to)
    msg = EmailMessage()
    msg["From"] = sender or cfg["MAIL_DEFAULT_SENDER"]
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="clientflow.example")
    if reply_to:
        msg["Reply-To"] = reply_to
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, mime, content in attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=filename
        )

    try:
        with smtplib.SMTP(
            cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]
        ) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD", ""))
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        # The server's reply can quote addresses, so only its kind is logged.
        logger.warning(
            "mail to %d recipient(s) failed: %s", len(recipients), type(exc).__name__
        )
        raise MailError(str(exc)) from exc
    logger.info("mail sent to %d recipient(s)", len(recipients))
    return msg["Message-ID"]


def run_outbox_server(app, host: str, port: int):
    """Start an SMTP server that stores every message in the outbox table."""
    from aiosmtpd.controller import Controller

    from .extensions import db
    from .models import OutboxMessage

    class OutboxHandler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            from email import message_from_bytes, policy

            parsed = message_from_bytes(envelope.content, policy=policy.default)
            with app.app_context():
                db.session.add(
                    OutboxMessage(
                        sender=envelope.mail_from[:254],
                        recipients=", ".join(envelope.rcpt_tos)[:2000],
                        subject=str(parsed.get("Subject", ""))[:500],
                        raw=envelope.content.decode("utf-8", "replace"),
                    )
                )
                db.session.commit()
            return "250 Message accepted for delivery"

    controller = Controller(OutboxHandler(), hostname=host, port=port)
    controller.start()
    return controller
