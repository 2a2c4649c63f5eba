"""Prepaid hour packs as a ledger.

Each ``HourPack`` row is one purchase of hours by a client: an opening
balance typed by the owner (no purchase invoice), or a pack sold by an
invoice made from an hour pack template. A sold pack's hours count once its
invoice is issued; while it is a draft the pack is pending, and a void
purchase counts for nothing. Hours used are the hours lines of issued
invoices billed against the pack. Nothing here is stored twice: bought, used
and left are computed from the invoices each time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Numeric, func, select, type_coerce

from host_stub.sdk import db

from .models import (
    Client,
    HourPack,
    Invoice,
    InvoiceLine,
    InvoiceState,
    InvoiceTemplate,
    LineKind,
)

logger = logging.getLogger(__name__)

DEFAULT_WARN_BELOW = Decimal(5)
MAX_HOURS = Decimal(100_000)
HOURS_PLACES = Decimal("0.01")


class HourPackError(ValueError):
    """A pack that cannot be recorded or topped up; ``str()`` is for the owner."""

    def __init__(self, message, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class PackStatus:
    """One pack with its ledger figures."""

    pack: HourPack
    #: active (its hours count), pending (purchase still a draft) or void
    state: str
    hours_bought: Decimal
    hours_used: Decimal
    template_name: str
    purchase_number: str | None

    @property
    def hours_left(self) -> Decimal:
        return self.hours_bought - self.hours_used

    @property
    def low(self) -> bool:
        return self.state == "active" and self.hours_left < self.pack.warn_below_hours


@dataclass(frozen=True)
class ClientHours:
    """A client's prepaid hours over all their packs."""

    client_id: int
    packs: tuple[PackStatus, ...]
    hours_bought: Decimal
    hours_used: Decimal
    hours_pending: Decimal
    warn_below: Decimal

    @property
    def hours_left(self) -> Decimal:
        return self.hours_bought - self.hours_used

    @property
    def low(self) -> bool:
        return self.hours_bought > 0 and self.hours_left < self.warn_below

    @property
    def top_up_pack(self) -> HourPack | None:
        """The newest pack with a template, to propose the next purchase from."""
        for status in self.packs:
            if status.pack.template_id is not None and status.state != "void":
                return status.pack
        return None


def _hours(value) -> Decimal:
    return Decimal(value or 0).quantize(HOURS_PLACES)


def used_hours(pack_ids: list[int]) -> dict[int, Decimal]:
    """Hours billed against each pack on issued invoices, in one query."""
    if not pack_ids:
        return {}
    total = type_coerce(func.sum(InvoiceLine.quantity), Numeric(18, 4))
    rows = db.session.execute(
        select(InvoiceLine.hour_pack_id, total)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.hour_pack_id.in_(pack_ids),
            InvoiceLine.kind == LineKind.HOURS,
            Invoice.state == InvoiceState.ISSUED,
        )
        .group_by(InvoiceLine.hour_pack_id)
    ).all()
    return {pack_id: _hours(hours) for pack_id, hours in rows}


def _statuses(where) -> list[PackStatus]:
    rows = db.session.execute(
        select(HourPack, Invoice.state, Invoice.number, InvoiceTemplate.name)
        .outerjoin(Invoice, Invoice.id == HourPack.purchase_invoice_id)
        .outerjoin(InvoiceTemplate, InvoiceTemplate.id == HourPack.template_id)
        .where(where)
        .order_by(HourPack.created_at.desc(), HourPack.id.desc())
    ).all()
    used = used_hours([row[0].id for row in rows])
    statuses = []
    for pack, purchase_state, number, template_name in rows:
        if pack.purchase_invoice_id is None or purchase_state == InvoiceState.ISSUED:
            state = "active"
        elif purchase_state == InvoiceState.DRAFT:
            state = "pending"
        else:
            state = "void"
        statuses.append(
            PackStatus(
                pack=pack,
                state=state,
                hours_bought=_hours(pack.hours_bought),
                hours_used=used.get(pack.id, _hours(0)),
                template_name=template_name or "",
                purchase_number=number,
            )
        )
    return statuses


def packs_for_client(client_id: int) -> list[PackStatus]:
    """The client's packs, newest first, with bought, used and left hours.

    For the client card and detail page; the caller has already checked the
    client belongs to the current workspace.
    """
    return _statuses(HourPack.client_id == client_id)


def hours_for_client(client_id: int) -> ClientHours | None:
    """The client's prepaid hours over all packs; None when they have none."""
    return _summary(client_id, packs_for_client(client_id))


def _summary(client_id: int, packs: list[PackStatus]) -> ClientHours | None:
    if not packs:
        return None
    active = [p for p in packs if p.state == "active"]
    return ClientHours(
        client_id=client_id,
        packs=tuple(packs),
        hours_bought=sum((p.hours_bought for p in active), _hours(0)),
        # Hours billed against a pending or void pack were still worked.
        hours_used=sum((p.hours_used for p in packs), _hours(0)),
        hours_pending=sum(
            (p.hours_bought for p in packs if p.state == "pending"), _hours(0)
        ),
        warn_below=active[0].pack.warn_below_hours if active else DEFAULT_WARN_BELOW,
    )


def hours_for_clients(client_ids: list[int]) -> dict[int, ClientHours]:
    """Client id → prepaid hours, for a list of client cards in two queries.

    Clients without packs are left out.
    """
    if not client_ids:
        return {}
    by_client: dict[int, list[PackStatus]] = {}
    for status in _statuses(HourPack.client_id.in_(list(client_ids))):
        by_client.setdefault(status.pack.client_id, []).append(status)
    return {
        client_id: _summary(client_id, packs) for client_id, packs in by_client.items()
    }


def hours_of_workspace(workspace_id: int) -> list[tuple[Client, ClientHours]]:
    """Every client of the workspace with packs, by name, with their hours."""
    statuses = _statuses(HourPack.workspace_id == workspace_id)
    by_client: dict[int, list[PackStatus]] = {}
    for status in statuses:
        by_client.setdefault(status.pack.client_id, []).append(status)
    clients = {
        client.id: client
        for client in db.session.scalars(
            select(Client).where(Client.id.in_(list(by_client)))
        )
    }
    found = [
        (clients[client_id], _summary(client_id, packs))
        for client_id, packs in by_client.items()
    ]
    return sorted(found, key=lambda item: (item[0].name.lower(), item[0].id))


def pack_of(workspace_id: int, pack_id: int) -> HourPack | None:
    """The pack if it belongs to the workspace; None for any other id."""
    pack = db.session.get(HourPack, pack_id)
    if pack is None or pack.workspace_id != workspace_id:
        return None
    return pack


def billable_pack(client_id: int) -> HourPack | None:
    """The pack new hours lines of the client should be billed against.

    The oldest active pack with hours left, so packs are used up in the
    order they were bought; else the newest active one.
    """
    active = [p for p in packs_for_client(client_id) if p.state == "active"]
    for status in reversed(active):
        if status.hours_left > 0:
            return status.pack
    return active[0].pack if active else None


def _checked_hours(value, field: str, *, allow_zero: bool = False) -> Decimal:
    try:
        hours = Decimal(value)
    except (ArithmeticError, TypeError, ValueError):
        raise HourPackError(_l("Give a number of hours."), field=field) from None
    lowest_ok = hours >= 0 if allow_zero else hours > 0
    if not hours.is_finite() or not lowest_ok or hours > MAX_HOURS:
        raise HourPackError(_l("Give a number of hours."), field=field)
    if hours != hours.quantize(HOURS_PLACES):
        raise HourPackError(_l("Use at most two decimal places."), field=field)
    return hours


def record_pack(
    workspace_id: int,
    client: Client,
    *,
    hours_bought,
    warn_below=DEFAULT_WARN_BELOW,
    template: InvoiceTemplate | None = None,
) -> HourPack:
    """Record hours a client already bought (an opening balance); flushed."""
    if client is None or client.workspace_id != workspace_id:
        raise HourPackError(_l("Choose a client of this workspace."), field="client")
    if template is not None and (
        template.workspace_id != workspace_id or template.kind != "hour_pack"
    ):
        raise HourPackError(_l("Choose an hour pack template."), field="template")
    pack = HourPack(
        workspace_id=workspace_id,
        client_id=client.id,
        template_id=template.id if template else None,
        hours_bought=_checked_hours(hours_bought, "hours_bought"),
        warn_below_hours=_checked_hours(warn_below, "warn_below", allow_zero=True),
    )
    db.session.add(pack)
    db.session.flush()
    logger.info("hour pack %s recorded for client %s", pack.id, client.id)
    return pack


def set_warning(pack: HourPack, warn_below) -> None:
    """Change the threshold under which the pack warns; flushed."""
    pack.warn_below_hours = _checked_hours(warn_below, "warn_below", allow_zero=True)
    db.session.flush()


def open_pack_for_purchase(template: InvoiceTemplate, invoice: Invoice) -> None:
    """Open the pack an invoice from an hour pack template sells; flushed.

    It stays pending until the invoice is issued; deleting the draft deletes
    it. The warning threshold is the one of the client's previous pack.
    """
    if template.kind != "hour_pack" or not template.hours_in_pack:
        return
    previous = db.session.scalar(
        select(HourPack.warn_below_hours)
        .where(HourPack.client_id == invoice.client_id)
        .order_by(HourPack.created_at.desc(), HourPack.id.desc())
        .limit(1)
    )
    pack = HourPack(
        workspace_id=invoice.workspace_id,
        client_id=invoice.client_id,
        template_id=template.id,
        purchase_invoice_id=invoice.id,
        hours_bought=template.hours_in_pack,
        warn_below_hours=previous if previous is not None else DEFAULT_WARN_BELOW,
    )
    db.session.add(pack)
    db.session.flush()
    logger.info("hour pack %s opened by invoice %s", pack.id, invoice.id)


def propose_top_up(pack: HourPack, *, actor_id: int | None) -> Invoice:
    """A draft that sells the client another pack from ``pack``'s template.

    The caller commits and sends the owner to the draft to review it.
    """
    # Imported here: recurrence opens packs through this module.
    from . import recurrence

    template = db.session.get(InvoiceTemplate, pack.template_id or 0)
    if template is None or template.kind != "hour_pack":
        raise HourPackError(
            _l("This pack has no hour pack template to propose a top-up from."),
            field="template",
        )
    client = db.session.get(Client, pack.client_id)
    return recurrence.new_invoice_from_template(
        template, client=client, actor_id=actor_id
    )
