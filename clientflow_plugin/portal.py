"""Portal links: a signed, expiring, revocable token for one invoice.

A link's URL carries ``[row id, secret]`` signed with the app's secret key.
The row keeps only the SHA-256 of the secret, so a database dump opens no
invoice, and the signature turns away altered tokens before any query. Every
open checks the row again (revoked, expired) and the invoice itself (still
issued, same workspace), so voiding an invoice ends its links at once even
before ``invoices.void`` marks them revoked.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from host_stub.sdk import db

from . import audit
from .access import hash_token
from .clock import now_utc
from .models import Client, Invoice, InvoiceState, PortalToken, Settings

logger = logging.getLogger(__name__)

SALT = "clientflow-portal"

#: The longest a link may live, whatever the settings say.
MAX_DAYS = 3650


class PortalError(ValueError):
    """A link cannot be made for this invoice (a draft or a void one)."""


class LinkNotFound(LookupError):
    """The token is wrong, altered, revoked, or its invoice is no longer open."""


class LinkExpired(Exception):
    """The token was genuine but its time is over."""

    def __init__(self, invoice: Invoice, token: PortalToken):
        super().__init__("portal link expired")
        self.invoice = invoice
        self.token = token


def _serializer() -> URLSafeSerializer:
    # Signed with SECRET_KEY; Flask's SECRET_KEY_FALLBACKS still verify, so
    # rotating the secret does not end every link already sent.
    fallbacks = list(current_app.config.get("SECRET_KEY_FALLBACKS") or ())
    return URLSafeSerializer([*fallbacks, current_app.config["SECRET_KEY"]], salt=SALT)


def link_days(workspace_id: int) -> int:
    """How long a new link of the workspace lives, from its settings."""
    settings = db.session.get(Settings, workspace_id)
    days = settings.portal_link_days if settings and settings.portal_link_days else 90
    return max(1, min(days, MAX_DAYS))


def create_link(
    invoice: Invoice,
    *,
    actor_id: int | None,
    days: int | None = None,
    record: bool = True,
) -> tuple[str, PortalToken]:
    """Make a new link of ``invoice``; returns the URL token and its row.

    The token is shown once and never stored. The row and, unless ``record``
    is false, its audit event are added to the session and flushed; the
    caller commits. Sending passes ``record=False`` and calls
    ``record_created`` once the mail has left.
    """
    if invoice.state != InvoiceState.ISSUED:
        raise PortalError("only an issued invoice can have a portal link")
    lifetime = days if days is not None else link_days(invoice.workspace_id)
    if not 1 <= lifetime <= MAX_DAYS:
        raise PortalError(f"a link lives from 1 to {MAX_DAYS} days")

    secret = secrets.token_urlsafe(32)
    now = now_utc()
    row = PortalToken(
        invoice_id=invoice.id,
        token_hash=hash_token(secret),
        created_at=now,
        expires_at=now + timedelta(days=lifetime),
    )
    db.session.add(row)
    db.session.flush()
    if record:
        record_created(invoice, row, actor_id=actor_id)
    return _serializer().dumps([row.id, secret]), row


def record_created(invoice: Invoice, row: PortalToken, *, actor_id: int | None) -> None:
    """Add the audit event of a new link to the session."""
    days = max(0, round((row.expires_at - row.created_at).total_seconds() / 86400))
    audit.record(
        invoice.workspace_id,
        "portal_link_created",
        invoice_id=invoice.id,
        user_id=actor_id,
        detail=f"link {row.id}, {days} days",
    )
    logger.info("portal link %s created for invoice %s", row.id, invoice.id)


def resolve_token(
    token: str, *, workspace_id: int, at: datetime | None = None
) -> PortalToken:
    """The live link row behind ``token`` within ``workspace_id``.

    Raises ``LinkNotFound`` for anything that must look like a missing page
    and ``LinkExpired`` for a genuine link whose time is over.
    """
    try:
        token_id, secret = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError) as exc:
        logger.warning("portal token with a bad signature refused")
        raise LinkNotFound from exc
    if not isinstance(token_id, int) or not isinstance(secret, str):
        raise LinkNotFound

    row = db.session.get(PortalToken, token_id)
    if row is None or not hmac.compare_digest(row.token_hash, hash_token(secret)):
        raise LinkNotFound
    invoice = db.session.get(Invoice, row.invoice_id)
    if invoice is None or invoice.workspace_id != workspace_id:
        raise LinkNotFound
    if row.revoked_at is not None or invoice.state != InvoiceState.ISSUED:
        raise LinkNotFound
    if row.expires_at <= (at or now_utc()):
        raise LinkExpired(invoice, row)
    return row


def resolve(token: str, *, workspace_id: int, at: datetime | None = None) -> Invoice:
    """The one invoice ``token`` opens in ``workspace_id``; see ``resolve_token``."""
    row = resolve_token(token, workspace_id=workspace_id, at=at)
    return db.session.get(Invoice, row.invoice_id)


def mark_opened(row: PortalToken) -> None:
    """Note when the client last opened the link, for the owner to see."""
    row.last_opened_at = now_utc()
    db.session.commit()


def revoke(row: PortalToken, *, actor_id: int | None, reason: str = "") -> bool:
    """End one link; False when it had already ended. The caller commits."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now_utc()
    invoice = db.session.get(Invoice, row.invoice_id)
    audit.record(
        invoice.workspace_id,
        "portal_link_revoked",
        invoice_id=invoice.id,
        user_id=actor_id,
        detail=f"link {row.id}" + (f", {reason}" if reason else ""),
    )
    logger.info("portal link %s revoked", row.id)
    return True


def links_of(invoice: Invoice, *, at: datetime | None = None) -> list[PortalToken]:
    """The invoice's links that still open it, newest first."""
    moment = at or now_utc()
    if invoice.state != InvoiceState.ISSUED:
        return []
    return list(
        db.session.scalars(
            select(PortalToken)
            .where(
                PortalToken.invoice_id == invoice.id,
                PortalToken.revoked_at.is_(None),
                PortalToken.expires_at > moment,
            )
            .order_by(PortalToken.created_at.desc(), PortalToken.id.desc())
        )
    )


def link_of_invoice(invoice: Invoice, link_id: int) -> PortalToken | None:
    """The link ``link_id`` if it belongs to ``invoice``; None otherwise."""
    return db.session.scalar(
        select(PortalToken).where(
            PortalToken.id == link_id, PortalToken.invoice_id == invoice.id
        )
    )


def clients_of_user(workspace_id: int, user_id: int) -> list[Client]:
    """The workspace's clients that ``user_id`` logs in as (a Client member)."""
    return list(
        db.session.scalars(
            select(Client)
            .where(
                Client.workspace_id == workspace_id, Client.portal_user_id == user_id
            )
            .order_by(Client.name, Client.id)
        )
    )


def portal_need(workspace_id: int) -> tuple:
    """The need of a Client member linked to a client of ``workspace_id``."""
    return ("clientflow", workspace_id, "portal")


def is_linked_client_member(workspace_id: int, user_id: int) -> bool:
    return (
        db.session.scalar(
            select(Client.id)
            .where(
                Client.workspace_id == workspace_id, Client.portal_user_id == user_id
            )
            .limit(1)
        )
        is not None
    )
