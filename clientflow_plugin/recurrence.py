"""Invoice templates and the schedules that generate invoices from them.

A template holds lines, taxes, terms and an optional monthly schedule. Each
period's date is counted from the anchor date (``clock.add_months``), never
from the previous period, so a schedule on the 31st bills on the last day of
shorter months and comes back to the 31st. Period ``n`` of a template is
generated once: ``Invoice`` carries ``(template_id, period_index)`` under a
unique constraint, so two runs at once still make one invoice.

Functions that change data flush and leave the commit to the caller, except
``run_schedules``, which commits each period on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from babel.dates import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from host_stub.sdk import Workspace, db, plugin_enabled

from . import PLUGIN_NAME, hour_packs, invoices, sending
from .clock import add_months, now_utc, today_in
from .mail_links import can_build_links
from .models import (
    Client,
    Invoice,
    InvoiceTemplate,
    LineKind,
    TaxRate,
    TemplateLine,
)

logger = logging.getLogger(__name__)

KINDS = ("retainer", "hour_pack", "project")
FREQUENCIES = ("none", "monthly")
ON_RUN = ("draft", "issue", "send")

KIND_LABELS = {
    "retainer": _l("Monthly standard services"),
    "hour_pack": _l("Prepaid hour pack"),
    "project": _l("Project with defined deliverables"),
}
ON_RUN_LABELS = {
    "draft": _l("Create a draft for me to review"),
    "issue": _l("Issue it (numbered, not sent)"),
    "send": _l("Issue it and email it to the client"),
}

#: Replaced in line descriptions by the month billed, e.g. "April 2027".
PERIOD_PLACEHOLDER = "{period}"
MAX_NAME = 200
MAX_DUE_DAYS = 365
#: Periods generated for one template in one run; a schedule further behind
#: is caught up over the following runs.
MAX_CATCH_UP = 24


class TemplateError(ValueError):
    """A template that cannot be saved or used; ``str()`` is for the owner."""

    def __init__(self, message, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class LineSpec:
    """One line of a template; ``unit_price_minor`` None means "to fill in"."""

    kind: str
    description: str
    quantity: Decimal
    unit_price_minor: int | None = None
    discount_percent: Decimal = Decimal(0)
    tax_rate_ids: tuple[int, ...] = ()


@dataclass
class TemplateData:
    """Everything a template form gives, checked by ``save_template``."""

    name: str
    kind: str = "retainer"
    client_id: int | None = None
    terms: str = ""
    discount_minor: int = 0
    due_days: int = 30
    frequency: str = "none"
    anchor_date: date | None = None
    end_date: date | None = None
    on_run: str = "draft"
    active: bool = True
    hours_in_pack: Decimal | None = None
    lines: list[LineSpec] = field(default_factory=list)


@dataclass(frozen=True)
class Preset:
    """A ready-made starting point for one of the product page's three kinds."""

    kind: str
    name: str
    frequency: str
    on_run: str
    due_days: int
    terms: str
    lines: tuple[LineSpec, ...]
    hours_in_pack: Decimal | None = None


def presets() -> dict[str, Preset]:
    """The three kinds of the product page, in the reader's language."""
    return {
        "retainer": Preset(
            kind="retainer",
            name=str(_l("Monthly standard services")),
            frequency="monthly",
            on_run="draft",
            due_days=15,
            terms=str(_l("Billed monthly in advance. Payment by bank transfer.")),
            lines=(
                LineSpec(
                    LineKind.SERVICE,
                    str(_l("Standard services, %(period)s", period=PERIOD_PLACEHOLDER)),
                    Decimal(1),
                ),
            ),
        ),
        "hour_pack": Preset(
            kind="hour_pack",
            name=str(_l("Prepaid hour pack")),
            frequency="none",
            on_run="draft",
            due_days=7,
            terms=str(_l("Prepaid hours, valid for 12 months from purchase.")),
            lines=(LineSpec(LineKind.HOURS, str(_l("Prepaid hours")), Decimal(20)),),
            hours_in_pack=Decimal(20),
        ),
        "project": Preset(
            kind="project",
            name=str(_l("Project with defined deliverables")),
            frequency="none",
            on_run="draft",
            due_days=30,
            terms=str(_l("Each deliverable is billed on acceptance.")),
            lines=(
                LineSpec(LineKind.SERVICE, str(_l("Discovery and plan")), Decimal(1)),
                LineSpec(LineKind.SERVICE, str(_l("Design")), Decimal(1)),
                LineSpec(LineKind.SERVICE, str(_l("Build and launch")), Decimal(1)),
            ),
        ),
    }


# --- templates ----------------------------------------------------------------


def templates_of(workspace_id: int) -> list[InvoiceTemplate]:
    return list(
        db.session.scalars(
            select(InvoiceTemplate)
            .where(InvoiceTemplate.workspace_id == workspace_id)
            .order_by(InvoiceTemplate.name, InvoiceTemplate.id)
        )
    )


def template_of(workspace_id: int, template_id: int) -> InvoiceTemplate | None:
    """The template if it belongs to the workspace; None for any other id."""
    template = db.session.get(InvoiceTemplate, template_id)
    if template is None or template.workspace_id != workspace_id:
        return None
    return template


def data_of(template: InvoiceTemplate) -> TemplateData:
    """A stored template as form data."""
    return TemplateData(
        name=template.name,
        kind=template.kind,
        client_id=template.client_id,
        terms=template.terms,
        discount_minor=template.discount_minor,
        due_days=template.due_days,
        frequency=template.frequency,
        anchor_date=template.anchor_date,
        end_date=template.end_date,
        on_run=template.on_run,
        active=template.active,
        hours_in_pack=template.hours_in_pack,
        lines=[
            LineSpec(
                kind=line.kind,
                description=line.description,
                quantity=Decimal(line.quantity),
                unit_price_minor=line.unit_price_minor,
                discount_percent=Decimal(line.discount_percent),
                tax_rate_ids=rate_ids(line),
            )
            for line in template.lines
        ],
    )


def data_from_preset(preset: Preset) -> TemplateData:
    return TemplateData(
        name=preset.name,
        kind=preset.kind,
        terms=preset.terms,
        due_days=preset.due_days,
        frequency=preset.frequency,
        on_run=preset.on_run,
        hours_in_pack=preset.hours_in_pack,
        lines=list(preset.lines),
    )


def rate_ids(line: TemplateLine) -> tuple[int, ...]:
    return tuple(int(part) for part in line.tax_rate_ids.split(",") if part.strip())


def save_template(
    workspace: Workspace, data: TemplateData, template: InvoiceTemplate | None = None
) -> InvoiceTemplate:
    """Create a template, or replace the contents of ``template``.

    Raises ``TemplateError`` naming the field at fault; nothing is changed
    then.
    """
    name = (data.name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise TemplateError(_l("Give the template a name."), field="name")
    if data.kind not in KINDS:
        raise TemplateError(_l("Choose a kind of template."), field="kind")
    if data.frequency not in FREQUENCIES:
        raise TemplateError(_l("Choose a schedule."), field="frequency")
    if data.on_run not in ON_RUN:
        raise TemplateError(_l("Choose what each run does."), field="on_run")
    if not 0 <= data.due_days <= MAX_DUE_DAYS:
        raise TemplateError(
            _l("Payment is due 0 to %(n)s days after the issue date.", n=MAX_DUE_DAYS),
            field="due_days",
        )
    if data.discount_minor < 0:
        raise TemplateError(_l("The discount cannot be negative."), field="discount")
    client = _client_of(workspace.id, data.client_id)
    _check_schedule(data, client, template)
    if data.kind == "hour_pack" and not (data.hours_in_pack or 0) > 0:
        raise TemplateError(
            _l("Say how many hours the pack holds."), field="hours_in_pack"
        )
    lines = _checked_lines(workspace.id, data.lines)

    if template is None:
        template = InvoiceTemplate(workspace_id=workspace.id)
        db.session.add(template)
    template.name = name
    template.kind = data.kind
    template.client_id = client.id if client else None
    template.terms = (data.terms or "").strip()
    template.discount_minor = data.discount_minor
    template.due_days = data.due_days
    template.frequency = data.frequency
    # Kept while the schedule is off, so turning it on again resumes the
    # same numbering of periods.
    template.anchor_date = data.anchor_date
    template.end_date = data.end_date
    template.on_run = data.on_run
    template.active = data.active
    template.hours_in_pack = data.hours_in_pack if data.kind == "hour_pack" else None
    template.lines = lines
    db.session.flush()
    return template


def delete_template(template: InvoiceTemplate) -> None:
    """Delete a template; invoices made from it stay, without the link."""
    db.session.delete(template)
    db.session.flush()


def _client_of(workspace_id: int, client_id: int | None) -> Client | None:
    if client_id is None:
        return None
    client = db.session.get(Client, client_id)
    if client is None or client.workspace_id != workspace_id:
        raise TemplateError(_l("Choose a client of this workspace."), field="client")
    return client


def _check_schedule(
    data: TemplateData, client: Client | None, template: InvoiceTemplate | None
) -> None:
    if (
        template is not None
        and template.anchor_date is not None
        and template.anchor_date != data.anchor_date
        and generated_periods(template.id)
    ):
        # Periods are numbered from the anchor: moving it would renumber them
        # and bill some months twice.
        raise TemplateError(
            _l(
                "This schedule has already generated invoices, so its first date "
                "cannot change. Give it an end date and start a new template."
            ),
            field="anchor_date",
        )
    if data.frequency != "monthly":
        return
    if client is None:
        raise TemplateError(_l("A schedule needs the client it bills."), field="client")
    if data.anchor_date is None:
        raise TemplateError(
            _l("Give the date of the first invoice."), field="anchor_date"
        )
    if data.end_date is not None and data.end_date < data.anchor_date:
        raise TemplateError(
            _l("The end date cannot be before the first invoice."), field="end_date"
        )


def _checked_lines(workspace_id: int, specs: Sequence[LineSpec]) -> list[TemplateLine]:
    if not specs:
        raise TemplateError(_l("Add at least one line."), field="lines")
    if len(specs) > invoices.MAX_LINES:
        raise TemplateError(
            _l("A template has at most %(n)s lines.", n=invoices.MAX_LINES),
            field="lines",
        )
    wanted = {rate_id for spec in specs for rate_id in spec.tax_rate_ids}
    known = set(
        db.session.scalars(
            select(TaxRate.id).where(
                TaxRate.workspace_id == workspace_id, TaxRate.id.in_(wanted)
            )
        )
    )
    lines = []
    for position, spec in enumerate(specs):
        if spec.kind not in set(LineKind):
            raise TemplateError(_l("Choose hours, product or service."), field="lines")
        description = (spec.description or "").strip()
        if not description or len(description) > invoices.MAX_DESCRIPTION:
            raise TemplateError(_l("Describe every line."), field="lines")
        if not Decimal(0) < spec.quantity <= invoices.MAX_QUANTITY:
            raise TemplateError(
                _l("Each quantity must be greater than zero."), field="lines"
            )
        if spec.unit_price_minor is None or spec.unit_price_minor < 0:
            raise TemplateError(_l("Give every line a unit price."), field="lines")
        if not Decimal(0) <= spec.discount_percent <= Decimal(100):
            raise TemplateError(
                _l("A line discount is a percentage from 0 to 100."), field="lines"
            )
        if not set(spec.tax_rate_ids) <= known:
            raise TemplateError(_l("Unknown tax rate."), field="lines")
        lines.append(
            TemplateLine(
                position=position,
                kind=str(spec.kind),
                description=description,
                quantity=spec.quantity,
                unit_price_minor=spec.unit_price_minor,
                discount_percent=spec.discount_percent,
                tax_rate_ids=",".join(str(i) for i in dict.fromkeys(spec.tax_rate_ids)),
            )
        )
    return lines


# --- schedule dates -----------------------------------------------------------


def period_date(template: InvoiceTemplate, index: int) -> date:
    """The date of period ``index`` (0 is the anchor), counted from the anchor."""
    return add_months(template.anchor_date, index)


def is_scheduled(template: InvoiceTemplate) -> bool:
    return template.frequency == "monthly" and template.anchor_date is not None


def periods_due(template: InvoiceTemplate, today: date) -> list[tuple[int, date]]:
    """Every period whose date has come by ``today``, up to the end date."""
    if not is_scheduled(template):
        return []
    found = []
    index = 0
    while True:
        day = period_date(template, index)
        if day > today or (template.end_date and day > template.end_date):
            return found
        found.append((index, day))
        index += 1


def next_period(template: InvoiceTemplate, today: date) -> tuple[int, date] | None:
    """The first period after ``today`` that the schedule will generate."""
    if not (is_scheduled(template) and template.active):
        return None
    index = len(periods_due(template, today))
    day = period_date(template, index)
    if template.end_date and day > template.end_date:
        return None
    return index, day


def generated_periods(template_id: int) -> set[int]:
    return set(
        db.session.scalars(
            select(Invoice.period_index).where(
                Invoice.template_id == template_id,
                Invoice.period_index.is_not(None),
            )
        )
    )


def generated_periods_of_workspace(workspace_id: int) -> dict[int, set[int]]:
    """Template id → its generated periods, for a whole list in one query."""
    found: dict[int, set[int]] = {}
    for template_id, index in db.session.execute(
        select(Invoice.template_id, Invoice.period_index).where(
            Invoice.workspace_id == workspace_id,
            Invoice.template_id.is_not(None),
            Invoice.period_index.is_not(None),
        )
    ):
        found.setdefault(template_id, set()).add(index)
    return found


def missed_periods(
    template: InvoiceTemplate, today: date, done: set[int] | None = None
) -> list[tuple[int, date]]:
    """Periods due by ``today`` without their invoice yet.

    ``done`` is the template's generated periods when the caller has them.
    """
    if done is None:
        done = generated_periods(template.id)
    return [(i, day) for i, day in periods_due(template, today) if i not in done]


# --- invoices from templates --------------------------------------------------


def period_label(day: date, language: str) -> str:
    """The month billed, as the client reads it: "April 2027", "abril de 2027"."""
    return format_date(day, "MMMM y", locale=language or "en")


def line_data(
    template: InvoiceTemplate, *, period: date, language: str
) -> list[invoices.LineData]:
    """The template's lines for an invoice of ``period``."""
    label = period_label(period, language)
    return [
        invoices.LineData(
            kind=line.kind,
            description=line.description.replace(PERIOD_PLACEHOLDER, label),
            quantity=Decimal(line.quantity),
            unit_price_minor=line.unit_price_minor,
            discount_percent=Decimal(line.discount_percent),
            tax_rate_ids=list(rate_ids(line)),
        )
        for line in template.lines
    ]


def new_invoice_from_template(
    template: InvoiceTemplate,
    *,
    client: Client | None = None,
    actor_id: int | None,
    today: date | None = None,
) -> Invoice:
    """A draft with the template's lines, taxes and terms, for the owner to edit.

    ``client`` defaults to the template's. An hour pack template also opens
    the pack the draft sells. Raises ``TemplateError`` or
    ``invoices.BillingError``; the caller commits.
    """
    workspace = db.session.get(Workspace, template.workspace_id)
    if client is None and template.client_id is not None:
        client = db.session.get(Client, template.client_id)
    if client is None or client.workspace_id != workspace.id:
        raise TemplateError(_l("Choose the client to bill."), field="client")
    today = today or today_in(workspace)

    invoice = invoices.create_draft(
        workspace,
        client,
        lines=line_data(template, period=today, language=workspace.language),
        discount_minor=template.discount_minor,
        terms=template.terms,
        issue_date=today,
        due_date=today + timedelta(days=template.due_days),
        template_id=template.id,
        actor_id=actor_id,
    )
    hour_packs.open_pack_for_purchase(template, invoice)
    logger.info("invoice draft %s made from template %s", invoice.id, template.id)
    return invoice


# --- the cron run -------------------------------------------------------------


@dataclass
class ScheduleSummary:
    """What one run did, for the command's output and the job's record."""

    schedules: int = 0
    created: int = 0
    issued: int = 0
    sent: int = 0
    already_generated: int = 0
    failed: int = 0

    def line(self) -> str:
        return (
            f"{self.schedules} schedules, {self.created} invoices created, "
            f"{self.issued} issued, {self.sent} sent, {self.already_generated} "
            f"generated by another run, {self.failed} failed"
        )


Report = Callable[[str], None]


def run_schedules(
    now: datetime | None = None, *, report: Report | None = None
) -> ScheduleSummary:
    """Generate every period that is due at ``now``, each in its own transaction.

    Periods missed while cron was down are caught up, oldest first. Safe to
    run twice and from two processes at once: a period another run has just
    generated is skipped, without error.
    """
    now = now or now_utc()
    say = report or (lambda _text: None)
    summary = ScheduleSummary()
    rows = db.session.execute(
        select(InvoiceTemplate.id, InvoiceTemplate.workspace_id)
        .where(
            InvoiceTemplate.active.is_(True),
            InvoiceTemplate.frequency == "monthly",
            InvoiceTemplate.anchor_date.is_not(None),
            InvoiceTemplate.client_id.is_not(None),
        )
        .order_by(InvoiceTemplate.workspace_id, InvoiceTemplate.id)
    ).all()
    enabled: dict[int, Workspace | None] = {}
    for template_id, workspace_id in rows:
        if workspace_id not in enabled:
            workspace = db.session.get(Workspace, workspace_id)
            on = workspace is not None and plugin_enabled(workspace, PLUGIN_NAME)
            enabled[workspace_id] = workspace if on else None
        workspace = enabled[workspace_id]
        if workspace is None:
            continue
        summary.schedules += 1
        try:
            _run_template(template_id, workspace, now, summary, say)
        except Exception:
            # One broken template must not keep the others from billing.
            db.session.rollback()
            logger.exception("template %s failed in the schedule run", template_id)
            summary.failed += 1
            say(f"template {template_id}: failed, see the log")
    return summary


def _run_template(
    template_id: int,
    workspace: Workspace,
    now: datetime,
    summary: ScheduleSummary,
    say: Report,
) -> None:
    template = db.session.get(InvoiceTemplate, template_id)
    client = db.session.get(Client, template.client_id)
    if client is None or client.archived:
        return
    today = today_in(workspace, now)
    for index, day in missed_periods(template, today)[:MAX_CATCH_UP]:
        invoice_id = _generate_period(template, workspace, client, index, day, today)
        if invoice_id is None:
            if index in generated_periods(template.id):
                summary.already_generated += 1
                say(f"template {template.id} period {index}: generated by another run")
            else:
                summary.failed += 1
                say(f"template {template.id} period {index}: failed, see the log")
            continue
        summary.created += 1
        state = _complete_period(template, invoice_id, today, summary)
        say(f"template {template.id} period {index} ({day}): {invoice_id} {state}")


def _generate_period(
    template: InvoiceTemplate,
    workspace: Workspace,
    client: Client,
    index: int,
    day: date,
    today: date,
) -> int | None:
    """Create and commit the draft of one period; None when it was not created."""
    # An invoice issued automatically is dated the day it is issued, so that
    # numbers keep following dates; a draft shows the period it bills.
    issue_date = day if template.on_run == "draft" else today
    try:
        invoice = invoices.create_draft(
            workspace,
            client,
            lines=line_data(template, period=day, language=workspace.language),
            discount_minor=template.discount_minor,
            terms=template.terms,
            issue_date=issue_date,
            due_date=issue_date + timedelta(days=template.due_days),
            template_id=template.id,
            period_index=index,
            actor_id=None,
        )
        hour_packs.open_pack_for_purchase(template, invoice)
        db.session.commit()
    except IntegrityError:
        # Another run made this period first; only this period is undone.
        db.session.rollback()
        return None
    except invoices.BillingError as exc:
        db.session.rollback()
        logger.warning(
            "template %s period %s not generated: %s",
            template.id,
            index,
            type(exc).__name__,
        )
        return None
    logger.info(
        "invoice %s generated from template %s for period %s",
        invoice.id,
        template.id,
        index,
    )
    return invoice.id


def _complete_period(
    template: InvoiceTemplate, invoice_id: int, today: date, summary: ScheduleSummary
) -> str:
    """Issue and send a generated draft as the template asks; its final state."""
    if template.on_run == "draft":
        return "created as a draft"
    invoice = db.session.get(Invoice, invoice_id)
    try:
        invoices.issue(invoice, actor_id=None, today=today)
        db.session.commit()
    except invoices.BillingError as exc:
        db.session.rollback()
        summary.failed += 1
        logger.warning(
            "invoice %s of template %s left as a draft: %s",
            invoice_id,
            template.id,
            type(exc).__name__,
        )
        return "left as a draft (issue refused)"
    summary.issued += 1
    if template.on_run != "send":
        return "issued"
    if not can_build_links():
        summary.failed += 1
        logger.warning("invoice %s issued, not sent: no base URL", invoice_id)
        return "issued, not sent (set CLIENTFLOW_BASE_URL for portal links)"
    try:
        sending.send_invoice(invoice, actor_id=None)
    except sending.SendError:
        summary.failed += 1
        logger.warning(
            "invoice %s of template %s issued, not sent", invoice_id, template.id
        )
        return "issued, not sent"
    summary.sent += 1
    return "issued and sent"
