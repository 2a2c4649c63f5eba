"""Demo invoices of the last 24 months, issued and paid through the domain.

Monthly retainers (three clients' made by a template's schedule, see
``templates``), projects with hours, products and services, Spanish IVA
(with IRPF withheld for some professionals), Canary IGIC and Mexican IVA.
Every invoice is issued on its own date, oldest first, so that numbers
follow dates. Most invoices are paid, some partly, some are pending or
overdue, two are void and a few drafts wait for this month. Everything is
drawn from the ``rng`` given, and dates count back from today in the
workspace's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from host_stub.sdk import db

from .. import invoices
from ..clock import add_months, today_in, zone
from ..invoices import LineData
from ..models import AuditEvent, Client, ClientStatus, Invoice, LineKind, TaxRate
from ..recurrence import period_label
from . import templates as demo_templates

MONTHS = 24

RETAINERS = (
    ("Gestión de redes sociales", 65000),
    ("Mantenimiento web y alojamiento", 45000),
    ("SEO y plan de contenidos", 90000),
    ("Cuota de marketing digital", 150000),
)

PROJECTS = (
    ("Identidad de marca: logotipo y guía de estilo", LineKind.SERVICE, 1, 240000),
    ("Desarrollo de la tienda online", LineKind.SERVICE, 1, 480000),
    ("Sesión de fotos, media jornada", LineKind.SERVICE, 1, 60000),
    ("Diseño de landing page", LineKind.SERVICE, 1, 120000),
    ("Plantillas de newsletter", LineKind.SERVICE, 3, 25000),
    ("Redacción de contenidos", LineKind.HOURS, None, 4500),
    ("Desarrollo", LineKind.HOURS, None, 6000),
    ("Consultoría UX", LineKind.HOURS, None, 7500),
    ("Licencia de tema premium", LineKind.PRODUCT, 1, 8900),
    ("Dominio y certificado SSL, un año", LineKind.PRODUCT, 1, 4500),
)

HOURS = ("2.5", "4", "6.75", "8", "12.5", "16", "20", "3.25")

VOID_REASONS = (
    "Emitida dos veces por error",
    "Datos de facturación incorrectos; se emite de nuevo",
)


@dataclass
class Plan:
    client: Client
    issued_on: date
    lines: list[LineData] = field(default_factory=list)
    discount_minor: int = 0
    due_days: int = 30
    #: A draft made elsewhere (by a template) that waits for its number.
    draft: Invoice | None = None


def seed(workspace, rng) -> None:
    today = today_in(workspace)
    clients = db.session.scalars(
        select(Client)
        .where(
            Client.workspace_id == workspace.id,
            Client.status != ClientStatus.PROSPECT,
        )
        .order_by(Client.id)
    ).all()
    if not clients:
        return
    rates = _rates(workspace.id)
    taxes = {client.id: _taxes_for(client, rates, rng) for client in clients}
    scheduled = demo_templates.retainer_clients(clients)

    plans: list[Plan] = []
    drafts: list[Plan] = []
    for index, client in enumerate(clients):
        last = (
            today - timedelta(days=rng.randint(200, 400)) if client.archived else today
        )
        if index % 3 == 0 and client not in scheduled:
            plans += _retainer(workspace, client, taxes[client.id], last, rng)
        plans += _projects(client, taxes[client.id], today, last, rng)
        if not client.archived and index % 7 == 2:
            drafts.append(_project(client, taxes[client.id], today, rng))
    plans += [
        Plan(draft.client, day, draft=draft)
        for day, draft in demo_templates.seed(workspace, clients, taxes, today, rng)
    ]

    plans.sort(key=lambda plan: (plan.issued_on, plan.client.id))
    issued = [_issue(workspace, plan) for plan in plans]
    for plan, invoice in zip(plans, issued, strict=True):
        _pay(invoice, plan, today, rng)
    by_hand = [
        invoice
        for plan, invoice in zip(plans, issued, strict=True)
        if plan.draft is None
    ]
    _void_a_couple(by_hand, today)
    for plan in drafts:
        invoices.create_draft(
            workspace,
            plan.client,
            lines=plan.lines,
            discount_minor=plan.discount_minor,
            terms=_terms(plan.due_days),
        )
    db.session.flush()


def _rates(workspace_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(TaxRate.name, TaxRate.id).where(TaxRate.workspace_id == workspace_id)
    )
    return {name: rate_id for name, rate_id in rows}


def _taxes_for(client: Client, rates: dict[str, int], rng) -> list[int]:
    names = {
        "ES": ["IVA 21%"],
        "ES-CN": ["IGIC 7%"],
        "MX": ["IVA 16%"],
    }.get(client.region or "", [])
    # Professionals in Spain have IRPF withheld on what they are billed.
    if client.region == "ES" and rng.random() < 0.35:
        names = [*names, "IRPF -15%"]
    return [rates[name] for name in names if name in rates]


def _retainer(
    workspace, client: Client, taxes: list[int], last: date, rng
) -> list[Plan]:
    description, fee = rng.choice(RETAINERS)
    start = add_months(last.replace(day=1), -rng.randint(8, MONTHS - 1))
    plans = []
    month = 0
    while (issued_on := add_months(start, month)) <= last:
        label = f"{description}, {period_label(issued_on, workspace.language)}"
        plans.append(
            Plan(
                client,
                issued_on,
                [_line(LineKind.SERVICE, label, Decimal(1), fee, taxes)],
                due_days=15,
            )
        )
        month += 1
    return plans


def _projects(
    client: Client, taxes: list[int], today: date, last: date, rng
) -> list[Plan]:
    plans = []
    for _ in range(rng.randint(2, 6)):
        plan = _project(client, taxes, today, rng)
        if plan.issued_on <= last:
            plans.append(plan)
    return plans


def _project(client: Client, taxes: list[int], today: date, rng) -> Plan:
    issued_on = today - timedelta(days=rng.randint(0, MONTHS * 30))
    lines = []
    for description, kind, quantity, price in rng.sample(PROJECTS, rng.randint(1, 4)):
        amount = Decimal(rng.choice(HOURS)) if quantity is None else Decimal(quantity)
        discount = Decimal(rng.choice((0, 0, 0, 5, 10)))
        lines.append(_line(kind, description, amount, price, taxes, discount))
    plan = Plan(client, issued_on, lines)
    if rng.random() < 0.15:
        plan.discount_minor = rng.choice((5000, 10000, 15000))
        lines_net = sum(
            int(line.quantity * line.unit_price_minor * (100 - line.discount_percent))
            // 100
            for line in lines
        )
        plan.discount_minor = min(plan.discount_minor, lines_net // 2)
    return plan


def _line(kind, description, quantity, price, taxes, discount=Decimal(0)) -> LineData:
    return LineData(
        kind=kind,
        description=description,
        quantity=quantity,
        unit_price_minor=price,
        discount_percent=discount,
        tax_rate_ids=list(taxes),
    )


def _terms(days: int) -> str:
    return f"Pago por transferencia bancaria en un plazo de {days} días."


def _issue(workspace, plan: Plan):
    invoice = plan.draft or invoices.create_draft(
        workspace,
        plan.client,
        lines=plan.lines,
        discount_minor=plan.discount_minor,
        terms=_terms(plan.due_days),
        issue_date=plan.issued_on,
        due_date=plan.issued_on + timedelta(days=plan.due_days),
    )
    invoices.issue(invoice, actor_id=None, today=plan.issued_on)
    moment = _moment(workspace, plan.issued_on, time(9, 30))
    invoice.issued_at = moment
    invoice.created_at = moment - timedelta(hours=2)
    backdate_events(invoice.id, "invoice_issued", moment)
    return invoice


def _pay(invoice, plan: Plan, today: date, rng) -> None:
    """Most invoices paid, some partly; recent and a few old ones still open."""
    due = invoice.due_date
    roll = rng.random()
    if due >= today:
        if roll < 0.45:
            _payment(invoice, invoice.total_minor, plan.issued_on, today, rng)
        elif roll < 0.55:
            _payment(invoice, _part(invoice, rng), plan.issued_on, today, rng)
        return
    if due < today - timedelta(days=180):
        # Old invoices were collected, but for the odd bad debt.
        if roll < 0.97:
            _payment(invoice, invoice.total_minor, due, today, rng)
        return
    if roll < 0.85:
        _payment(invoice, invoice.total_minor, due, today, rng)
    elif roll < 0.92:
        _payment(invoice, _part(invoice, rng), due, today, rng)


def _part(invoice, rng) -> int:
    return max(invoice.total_minor * rng.choice((30, 40, 50, 60)) // 100, 1)


def _payment(invoice, amount: int, around: date, today: date, rng) -> None:
    paid_on = around + timedelta(days=rng.randint(-10, 12))
    paid_on = min(max(paid_on, invoice.issue_date), today)
    method = rng.choice(("transfer", "transfer", "transfer", "card", "direct_debit"))
    reference = f"TRF-{invoice.number}" if method == "transfer" else None
    invoices.record_payment(
        invoice,
        amount_minor=amount,
        paid_on=paid_on,
        method=method,
        reference=reference,
        today=today,
    )
    moment = datetime.combine(paid_on, time(11, 0), tzinfo=UTC)
    backdate_events(invoice.id, "payment_recorded", moment, latest_only=True)


def _void_a_couple(issued: list, today: date) -> None:
    unpaid = [
        invoice
        for invoice in issued
        if not invoice.payments and invoice.due_date < today - timedelta(days=60)
    ]
    for invoice, reason in zip(unpaid[:2], VOID_REASONS, strict=False):
        invoices.void(invoice, reason=reason, actor_id=None)
        moment = datetime.combine(
            invoice.issue_date + timedelta(days=3), time(16, 0), tzinfo=UTC
        )
        invoice.voided_at = moment
        backdate_events(invoice.id, "invoice_voided", moment)


def _moment(workspace, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=zone(workspace)).astimezone(UTC)


def backdate_events(
    invoice_id: int, kind: str, moment: datetime, *, latest_only: bool = False
) -> None:
    """Give the audit events of the demo the dates the demo pretends."""
    db.session.flush()
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.invoice_id == invoice_id, AuditEvent.kind == kind)
        .order_by(AuditEvent.id.desc())
    ).all()
    for event in events[:1] if latest_only else events:
        event.at = moment
