"""The audit trail of financial events: who did what to which invoice, and when."""

from __future__ import annotations

import logging

from sqlalchemy import select

from host_stub.sdk import db

from .models import AuditEvent

logger = logging.getLogger(__name__)

#: The kinds of event recorded; labels for people live in the templates.
KINDS = (
    "invoice_issued",
    "invoice_voided",
    "invoice_sent",
    "portal_link_created",
    "portal_link_revoked",
    "payment_recorded",
    "reminder_sent",
    "key_rotated",
    "invoice_imported",
)


def record(
    workspace_id: int,
    kind: str,
    *,
    invoice_id: int | None = None,
    user_id: int | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add an event to the session; it is committed with the change it records.

    ``detail`` is shown to the owner; it must never hold tokens or bank data.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown audit event {kind!r}")
    event = AuditEvent(
        workspace_id=workspace_id,
        kind=kind,
        invoice_id=invoice_id,
        user_id=user_id,
        detail=detail[:500],
    )
    db.session.add(event)
    return event


def events_of_invoice(invoice_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.invoice_id == invoice_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
