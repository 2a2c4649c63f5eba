"""Demo invoice templates, and the invoices they made over the demo's months.

The three kinds of the product page: monthly retainers on a schedule for
three clients, a prepaid hour pack that one of them bought twice and has
nearly used up, and a project with deliverables billed by hand. One run of
``recurrence.run_schedules`` makes the schedules' past months as drafts;
``seed`` hands them back with the day each was issued, and billing issues
them in date order with its own invoices, so that numbers follow dates.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from flask_babel import force_locale
from sqlalchemy import select

from host_stub.sdk import db

from .. import invoices, recurrence
from ..clock import add_months, now_utc, zone
from ..models import (
    Client,
    ClientStatus,
    HourPack,
    Invoice,
    InvoiceTemplate,
    LineKind,
    TaxRate,
)
from ..recurrence import PERIOD_PLACEHOLDER as PERIOD
from ..recurrence import LineSpec


class Retainer(NamedTuple):
    name: str
    #: The invoice line; ``{period}`` becomes the month billed.
    line: str
    fee_minor: int
    #: Day of the month of the schedule (31: the last day of every month).
    day: int
    #: What each run does from now on.
    on_run: str
    #: How many months ago the schedule started, at least and at most.
    months_ago: tuple[int, int]
    #: The preset's terms when empty.
    terms: str = ""


#: The first is reviewed as a draft every month, with the support hours of
#: its client's hour packs added before it is issued.
RETAINERS = (
    Retainer(
        "Mantenimiento web mensual",
        f"Mantenimiento web y alojamiento, {PERIOD}",
        45000,
        31,
        "draft",
        (12, 20),
        "Se factura el último día de cada mes, con las horas de soporte del mes. "
        "Pago por transferencia bancaria.",
    ),
    Retainer(
        "Cuota mensual de redes sociales",
        f"Gestión de redes sociales, {PERIOD}",
        65000,
        1,
        "issue",
        (6, 20),
    ),
    Retainer(
        "Plan mensual de SEO y contenidos",
        f"SEO y plan de contenidos, {PERIOD}",
        90000,
        15,
        "issue",
        (6, 20),
    ),
)

PACK_NAME = "Bolsa de 20 horas de soporte web"
PACK_LINE = "Bolsa prepagada de 20 horas de soporte web"
PACK_HOURS = Decimal(20)
PACK_RATE_MINOR = 5500
#: Support hours of each month billed against the packs, one pack a row:
#: the first pack is used up, the second is down to 3.5 hours.
HOURS_USED = (
    ("4.5", "3", "5.25", "4", "3.25"),
    ("5.5", "4.75", "6.25"),
)
HOURS_LINE = "Horas de soporte de {month}, con cargo a la bolsa prepagada"
#: A pack is bought this many days before the first month it is used in.
PACK_LEAD_DAYS = 20

PROJECT_NAME = "Web corporativa por entregables"
DELIVERABLES = (
    ("Descubrimiento y plan del proyecto", 90000),
    ("Diseño de la web", 180000),
    ("Desarrollo y puesta en marcha", 270000),
)


def retainer_clients(clients: list[Client]) -> list[Client]:
    """The clients billed by a scheduled retainer rather than by hand."""
    live = [
        client
        for client in clients
        if client.status == ClientStatus.ACTIVE and not client.archived
    ]
    return live[: len(RETAINERS)]


def seed(
    workspace, clients: list[Client], taxes: dict[int, list[int]], today: date, rng
) -> list[tuple[date, Invoice]]:
    """Add the templates and their invoices; the drafts to issue, with their day.

    ``taxes`` holds each client's tax rate ids. The drafts left out of the
    answer stay drafts: the latest month of the schedule that is reviewed.
    """
    scheduled = retainer_clients(clients)
    if not scheduled:
        return []
    with force_locale(workspace.language or "en"):
        presets = recurrence.presets()

    retainers = [
        _save_retainer(workspace, presets["retainer"], spec, client, taxes, today, rng)
        for spec, client in zip(RETAINERS, scheduled, strict=False)
    ]
    pack_template = _save_pack_template(
        workspace, presets["hour_pack"], scheduled[0], taxes
    )
    project_template = _save_project_template(workspace, presets["project"])

    # Every month so far becomes a draft dated on its own day, so that it
    # can be issued in turn with the invoices billing makes by hand.
    recurrence.run_schedules(now_utc())
    monthly = {template.id: _drafts_of(workspace, template) for template in retainers}

    reviewed = monthly[retainers[0].id]
    to_issue = _hour_packs(workspace, pack_template, reviewed[:-1])
    for template, spec in zip(retainers, RETAINERS, strict=False):
        drafts = monthly[template.id]
        if spec.on_run == "draft":
            drafts = drafts[:-1]
        to_issue += [(draft.issue_date, draft) for draft in drafts]
        if spec.on_run != template.on_run:
            # From the next month on, this schedule issues its invoices itself.
            recurrence.save_template(
                workspace,
                replace(recurrence.data_of(template), on_run=spec.on_run),
                template,
            )
    to_issue += _first_deliverable(
        workspace, project_template, clients, scheduled, today, rng
    )
    return to_issue


def _save_retainer(
    workspace, preset, spec: Retainer, client: Client, taxes, today: date, rng
) -> InvoiceTemplate:
    start = add_months(today.replace(day=1), -rng.randint(*spec.months_ago))
    data = replace(
        recurrence.data_from_preset(preset),
        name=spec.name,
        client_id=client.id,
        terms=spec.terms or preset.terms,
        anchor_date=_day_of_month(start, spec.day),
        # Drafts first, so that the past months wait for their numbers.
        on_run="draft",
        lines=[
            LineSpec(
                LineKind.SERVICE,
                spec.line,
                Decimal(1),
                spec.fee_minor,
                tax_rate_ids=tuple(taxes[client.id]),
            )
        ],
    )
    return recurrence.save_template(workspace, data)


def _save_pack_template(workspace, preset, client: Client, taxes) -> InvoiceTemplate:
    data = replace(
        recurrence.data_from_preset(preset),
        name=PACK_NAME,
        client_id=client.id,
        hours_in_pack=PACK_HOURS,
        lines=[
            LineSpec(
                LineKind.HOURS,
                PACK_LINE,
                PACK_HOURS,
                PACK_RATE_MINOR,
                tax_rate_ids=tuple(taxes[client.id]),
            )
        ],
    )
    return recurrence.save_template(workspace, data)


def _save_project_template(workspace, preset) -> InvoiceTemplate:
    """A template for any client in Spain: no client, no schedule."""
    rates = tuple(
        db.session.scalars(
            select(TaxRate.id).where(
                TaxRate.workspace_id == workspace.id,
                TaxRate.region == "ES",
                TaxRate.default_for_region.is_(True),
            )
        )
    )
    data = replace(
        recurrence.data_from_preset(preset),
        name=PROJECT_NAME,
        lines=[
            LineSpec(
                LineKind.SERVICE, description, Decimal(1), price, tax_rate_ids=rates
            )
            for description, price in DELIVERABLES
        ],
    )
    return recurrence.save_template(workspace, data)


def _day_of_month(month: date, day: int) -> date:
    """``day`` of ``month``, or of the latest earlier month that has that day."""
    while True:
        try:
            return month.replace(day=day)
        except ValueError:
            month = add_months(month.replace(day=1), -1)


def _drafts_of(workspace, template: InvoiceTemplate) -> list[Invoice]:
    """The template's invoices by period, dated the morning the run made them."""
    drafts = list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.template_id == template.id)
            .order_by(Invoice.period_index)
        )
    )
    for draft in drafts:
        draft.created_at = _moment(workspace, draft.issue_date, time(7, 5))
    return drafts


def _hour_packs(
    workspace, template: InvoiceTemplate, monthly: list[Invoice]
) -> list[tuple[date, Invoice]]:
    """The packs bought, and the hours billed against them on ``monthly``.

    The hours of each month go on that month's draft at no charge, since the
    pack paid for them; the purchases are returned to be issued.
    """
    months = sum(len(hours) for hours in HOURS_USED)
    if len(monthly) < months:
        return []
    drafts = iter(monthly[-months:])
    purchases = []
    for hours in HOURS_USED:
        used_on = [next(drafts) for _ in hours]
        day = used_on[0].issue_date - timedelta(days=PACK_LEAD_DAYS)
        purchase = recurrence.new_invoice_from_template(
            template, actor_id=None, today=day
        )
        pack = db.session.scalar(
            select(HourPack).where(HourPack.purchase_invoice_id == purchase.id)
        )
        pack.created_at = _moment(workspace, day, time(10, 0))
        purchases.append((day, purchase))
        for draft, used in zip(used_on, hours, strict=True):
            month = recurrence.period_label(draft.issue_date, workspace.language)
            invoices.add_line(
                draft,
                invoices.LineData(
                    kind=LineKind.HOURS,
                    description=HOURS_LINE.format(month=month),
                    quantity=Decimal(used),
                    unit_price_minor=0,
                    hour_pack_id=pack.id,
                ),
            )
    return purchases


def _first_deliverable(
    workspace, template, clients, taken, today: date, rng
) -> list[tuple[date, Invoice]]:
    """A client in Spain billed the first deliverable of the project template."""
    candidates = [
        client
        for client in clients
        if client.status == ClientStatus.ACTIVE
        and not client.archived
        and client.region == "ES"
        and client not in taken
    ]
    if not candidates:
        return []
    day = today - timedelta(days=rng.randint(20, 45))
    draft = recurrence.new_invoice_from_template(
        template, client=candidates[0], actor_id=None, today=day
    )
    for line in list(draft.lines[1:]):
        invoices.remove_line(draft, line.id)
    return [(day, draft)]


def _moment(workspace, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=zone(workspace)).astimezone(UTC)
