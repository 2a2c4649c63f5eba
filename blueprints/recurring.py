"""ClientFlow's recurring pages: templates, schedules, reminders and hour packs.

Every view reads the request, calls ``recurrence``, ``reminders`` or
``hour_packs``, and renders; ids of another workspace answer 404. The
partials under ``clientflow/recurring/_*.html`` are included by other pages
(the invoice page, the invoices list, the client page) and get what they
show through the template globals registered here.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, select

from clientflow_plugin import hour_packs, jobs, recurrence, reminders
from clientflow_plugin.clock import today_in
from clientflow_plugin.formatting import reader_locale
from clientflow_plugin.forms.billing import ActionForm
from clientflow_plugin.forms.recurring import (
    NO_CLIENT,
    InvoiceFromTemplateForm,
    PackWarningForm,
    RecordPackForm,
    ReminderSettingsForm,
    TemplateForm,
    template_form_data,
)
from clientflow_plugin.invoices import BillingError
from clientflow_plugin.models import (
    Client,
    Invoice,
    InvoiceTemplate,
    TaxRate,
)
from clientflow_plugin.setup import workspace_settings
from host_stub.sdk import current_workspace, db

logger = logging.getLogger(__name__)

bp = Blueprint("recurring", __name__, url_prefix="/recurring")

#: The largest id a URL may name (the columns are 32-bit integers).
MAX_ID = 2**31 - 1

#: Where the owner finishes a draft made from a template, best first.
DRAFT_PAGES = ("clientflow.billing.draft_lines", "clientflow.billing.invoice")


# --- template globals for the partials ------------------------------------------


@bp.app_template_global("cf_reminder_timeline")
def reminder_timeline(invoice: Invoice) -> reminders.Timeline:
    """The reminders of ``invoice`` for ``_invoice_reminders.html``."""
    return reminders.timeline(invoice)


@bp.app_template_global("cf_scheduler_warnings")
def scheduler_warnings() -> list[jobs.JobHealth]:
    """The cron jobs that have not run well lately, for ``_scheduler_health.html``."""
    return jobs.scheduler_warnings()


@bp.app_template_filter("cf_hours")
def hours(value: Decimal | None) -> str:
    """Hours for the reader: "12.5", "12,5" in Spanish, no trailing zeros."""
    return format_decimal(Decimal(value or 0).normalize(), "#,##0.##")


@bp.app_template_filter("cf_day")
def day(value) -> str:
    """The date of a moment in the workspace's time zone, without the time."""
    return format_date(value, "medium")


@bp.app_template_global("cf_client_hours")
def client_hours(client: Client) -> hour_packs.ClientHours | None:
    """A client's prepaid hours, for ``_client_packs.html``."""
    return hour_packs.hours_for_client(client.id)


@bp.app_template_global("cf_clients_hours")
def clients_hours(clients) -> dict[int, hour_packs.ClientHours]:
    """Prepaid hours of many clients at once, for a page of client cards."""
    return hour_packs.hours_for_clients([client.id for client in clients])


# --- templates ------------------------------------------------------------------


@bp.route("/")
def index():
    """The workspace's templates, the presets to start from, the scheduler."""
    workspace = _workspace()
    templates = recurrence.templates_of(workspace.id)
    today = today_in(workspace)
    counts = dict(
        db.session.execute(
            select(Invoice.template_id, func.count(Invoice.id))
            .where(
                Invoice.workspace_id == workspace.id,
                Invoice.template_id.is_not(None),
            )
            .group_by(Invoice.template_id)
        ).all()
    )
    names = dict(
        db.session.execute(
            select(Client.id, Client.name).where(Client.workspace_id == workspace.id)
        ).all()
    )
    done = recurrence.generated_periods_of_workspace(workspace.id)
    rows = [
        {
            "template": template,
            "client": names.get(template.client_id, ""),
            "next": recurrence.next_period(template, today),
            "missed": len(
                recurrence.missed_periods(template, today, done.get(template.id, set()))
            )
            if template.active
            else 0,
            "invoices": counts.get(template.id, 0),
        }
        for template in templates
    ]
    return render_template(
        "clientflow/recurring/templates.html",
        rows=rows,
        presets=recurrence.presets(),
        kind_labels=recurrence.KIND_LABELS,
        on_run_labels=recurrence.ON_RUN_LABELS,
        health=jobs.job_health(),
        action_form=ActionForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
def new_template():
    """A new template, started from a preset when one is named."""
    preset = recurrence.presets().get(request.args.get("preset", ""))
    data = (
        recurrence.data_from_preset(preset)
        if preset
        else recurrence.TemplateData(name="")
    )
    form = _template_form(data)
    if _wants_more_lines(form):
        return _render_form(form, None, status=200)
    if request.method == "POST":
        saved = _save(form, None)
        if saved is not None:
            flash(_("Template %(name)s created.", name=saved.name), "success")
            return redirect(url_for(".edit_template", template_id=saved.id), code=303)
    else:
        form.add_spare_lines()
    return _render_form(form, None)


@bp.route("/<int:template_id>", methods=["GET", "POST"])
def edit_template(template_id: int):
    """Change a template; its invoices and the next run are listed below."""
    template = _template_or_404(template_id)
    form = _template_form(recurrence.data_of(template))
    if _wants_more_lines(form):
        return _render_form(form, template, status=200)
    if request.method == "POST":
        saved = _save(form, template)
        if saved is not None:
            flash(_("Template %(name)s saved.", name=saved.name), "success")
            return redirect(url_for(".edit_template", template_id=saved.id), code=303)
    else:
        form.add_spare_lines(1)
    return _render_form(form, template)


@bp.post("/<int:template_id>/delete")
def delete_template(template_id: int):
    template = _template_or_404(template_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    name = template.name
    recurrence.delete_template(template)
    db.session.commit()
    logger.info("template %s deleted by %s", template_id, _actor_id())
    flash(_("Template %(name)s deleted; its invoices stay.", name=name), "success")
    return redirect(url_for(".index"), code=303)


@bp.post("/<int:template_id>/invoice")
def new_invoice(template_id: int):
    """Make a draft from the template and open it in the invoice flow."""
    template = _template_or_404(template_id)
    form = InvoiceFromTemplateForm()
    form.client_id.choices = [(NO_CLIENT, ""), *_client_choices()]
    if not form.validate_on_submit():
        abort(400)
    client = None
    if form.client_id.data:
        client = _client_or_404(form.client_id.data)
    try:
        invoice = recurrence.new_invoice_from_template(
            template, client=client, actor_id=_actor_id()
        )
    except (recurrence.TemplateError, BillingError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".edit_template", template_id=template.id), code=303)
    db.session.commit()
    flash(
        _("Draft made from %(name)s: review it and issue it.", name=template.name),
        "success",
    )
    return redirect(_draft_url(invoice), code=303)


def _template_form(data: recurrence.TemplateData) -> TemplateForm:
    workspace = _workspace()
    form = TemplateForm(
        currency=workspace.currency,
        locale=reader_locale(),
        data=template_form_data(data),
    )
    form.setup(_client_choices(), _rate_choices())
    return form


def _wants_more_lines(form: TemplateForm) -> bool:
    """The "more empty lines" button: show the form again, nothing saved."""
    if request.method != "POST" or not request.form.get("add_line"):
        return False
    form.drop_blank_lines()
    form.add_spare_lines(3)
    return True


def _save(form: TemplateForm, template: InvoiceTemplate | None):
    """Validate and store the form; the template, or None with the errors set."""
    form.drop_blank_lines()
    if form.validate_on_submit():
        try:
            saved = recurrence.save_template(_workspace(), form.to_data(), template)
        except recurrence.TemplateError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            logger.info("template %s saved by %s", saved.id, _actor_id())
            return saved
    db.session.rollback()
    form.add_spare_lines(1 if len(form.lines.entries) else 2)
    return None


def _field_error(form: TemplateForm, exc: recurrence.TemplateError) -> None:
    names = {"client": "client_id", "discount": "discount"}
    name = names.get(exc.field or "", exc.field or "")
    field = form._fields.get(name)
    if field is not None and name != "lines":
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


def _render_form(
    form: TemplateForm, template: InvoiceTemplate | None, *, status: int | None = None
):
    workspace = _workspace()
    today = today_in(workspace)
    generated = []
    if template is not None:
        generated = list(
            db.session.scalars(
                select(Invoice)
                .where(
                    Invoice.workspace_id == workspace.id,
                    Invoice.template_id == template.id,
                )
                .order_by(Invoice.created_at.desc(), Invoice.id.desc())
                .limit(24)
            )
        )
    return (
        render_template(
            "clientflow/recurring/template_form.html",
            form=form,
            template=template,
            generated=generated,
            next_period=recurrence.next_period(template, today) if template else None,
            missed=recurrence.missed_periods(template, today)
            if template and template.active
            else [],
            period_date=recurrence.period_date,
            invoice_form=_invoice_form(),
            action_form=ActionForm(),
            currency=workspace.currency,
            has_invoice_page="clientflow.billing.invoice" in current_app.view_functions,
        ),
        status or (400 if request.method == "POST" else 200),
    )


def _invoice_form() -> InvoiceFromTemplateForm:
    form = InvoiceFromTemplateForm(formdata=None)
    form.client_id.choices = _client_choices()
    return form


# --- reminders ------------------------------------------------------------------


@bp.route("/reminders", methods=["GET", "POST"])
def reminder_settings():
    """The workspace's reminder schedule."""
    workspace = _workspace()
    settings = workspace_settings(workspace.id)
    steps = reminders.steps_of(settings)
    form = ReminderSettingsForm(data={"reminder_days": reminders.format_steps(steps)})
    if form.validate_on_submit():
        reminders.save_steps(workspace.id, form.reminder_days.data)
        db.session.commit()
        logger.info(
            "reminder schedule of %s changed by %s", workspace.slug, _actor_id()
        )
        flash(_("Reminder schedule saved."), "success")
        return redirect(url_for(".reminder_settings"), code=303)
    if request.method == "POST":
        db.session.rollback()
    example_due = today_in(workspace)
    return (
        render_template(
            "clientflow/recurring/reminders.html",
            form=form,
            steps=steps,
            example_due=example_due,
            example_dates=[example_due + timedelta(days=step) for step in steps],
        ),
        400 if request.method == "POST" else 200,
    )


@bp.post("/invoices/<int:invoice_id>/remind")
def send_reminder(invoice_id: int):
    """Send a reminder of one invoice now, by hand."""
    invoice = _invoice_or_404(invoice_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        reminders.send_reminder(invoice, actor_id=_actor_id())
    except reminders.ReminderError as exc:
        flash(str(exc), "error")
    else:
        flash(
            _("Reminder of invoice %(number)s sent.", number=invoice.number),
            "success",
        )
    return redirect(_invoice_url(invoice) + "#reminders", code=303)


# --- hour packs -----------------------------------------------------------------


@bp.route("/packs", methods=["GET", "POST"])
def packs():
    """Every client's prepaid hours; a pack bought earlier can be recorded."""
    workspace = _workspace()
    form = _record_form()
    if form.validate_on_submit():
        client = _client_or_404(form.client_id.data)
        template = None
        if form.template_id.data:
            template = _template_or_404(form.template_id.data)
        try:
            hour_packs.record_pack(
                workspace.id,
                client,
                hours_bought=form.hours_bought.data,
                warn_below=form.warn_below.data,
                template=template,
            )
        except hour_packs.HourPackError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Hours recorded for %(client)s.", client=client.name), "success")
            return redirect(url_for(".packs"), code=303)
    if request.method == "POST":
        db.session.rollback()
    return (
        render_template(
            "clientflow/recurring/packs.html",
            clients=hour_packs.hours_of_workspace(workspace.id),
            form=form,
            warning_form=PackWarningForm(
                formdata=None, currency=workspace.currency, locale=reader_locale()
            ),
            action_form=ActionForm(),
            has_pack_templates=any(
                t.kind == "hour_pack" for t in recurrence.templates_of(workspace.id)
            ),
        ),
        400 if request.method == "POST" else 200,
    )


@bp.post("/packs/<int:pack_id>/warning")
def pack_warning(pack_id: int):
    """Change the threshold under which a pack warns."""
    pack = _pack_or_404(pack_id)
    workspace = _workspace()
    form = PackWarningForm(currency=workspace.currency, locale=reader_locale())
    if form.validate_on_submit():
        try:
            hour_packs.set_warning(pack, form.warn_below.data)
        except hour_packs.HourPackError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Warning threshold saved."), "success")
    else:
        flash(_("Enter a number of hours."), "error")
    return redirect(url_for(".packs") + f"#client-{pack.client_id}", code=303)


@bp.post("/packs/<int:pack_id>/top-up")
def top_up(pack_id: int):
    """Propose a top-up: a draft from the pack's template, opened for review."""
    pack = _pack_or_404(pack_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        invoice = hour_packs.propose_top_up(pack, actor_id=_actor_id())
    except (hour_packs.HourPackError, recurrence.TemplateError, BillingError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".packs"), code=303)
    db.session.commit()
    flash(_("Top-up draft made: review it and issue it."), "success")
    return redirect(_draft_url(invoice), code=303)


def _record_form() -> RecordPackForm:
    workspace = _workspace()
    form = RecordPackForm(currency=workspace.currency, locale=reader_locale())
    form.client_id.choices = _client_choices()
    form.template_id.choices = [
        (NO_CLIENT, _("None")),
        *[
            (t.id, t.name)
            for t in recurrence.templates_of(workspace.id)
            if t.kind == "hour_pack"
        ],
    ]
    return form


# --- helpers --------------------------------------------------------------------


def _workspace():
    return current_workspace._get_current_object()


def _actor_id() -> int | None:
    return g.get("clientflow_actor_id")


def _check_id(value: int) -> None:
    if not 0 < value <= MAX_ID:
        abort(404)


def _template_or_404(template_id: int) -> InvoiceTemplate:
    _check_id(template_id)
    template = recurrence.template_of(_workspace().id, template_id)
    if template is None:
        abort(404)
    return template


def _invoice_or_404(invoice_id: int) -> Invoice:
    _check_id(invoice_id)
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.workspace_id != _workspace().id:
        abort(404)
    return invoice


def _client_or_404(client_id: int) -> Client:
    _check_id(client_id)
    client = db.session.get(Client, client_id)
    if client is None or client.workspace_id != _workspace().id:
        abort(404)
    return client


def _pack_or_404(pack_id: int):
    _check_id(pack_id)
    pack = hour_packs.pack_of(_workspace().id, pack_id)
    if pack is None:
        abort(404)
    return pack


def _client_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Client.id, Client.name)
        .where(Client.workspace_id == _workspace().id, Client.archived.is_(False))
        .order_by(Client.name, Client.id)
    ).all()
    return [(client_id, name) for client_id, name in rows]


def _rate_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(TaxRate.id, TaxRate.name)
        .where(TaxRate.workspace_id == _workspace().id, TaxRate.archived.is_(False))
        .order_by(TaxRate.region, TaxRate.name, TaxRate.id)
    ).all()
    return [(rate_id, name) for rate_id, name in rows]


def _draft_url(invoice: Invoice) -> str:
    for endpoint in DRAFT_PAGES:
        if endpoint in current_app.view_functions:
            return url_for(endpoint, invoice_id=invoice.id)
    return url_for(".index")


def _invoice_url(invoice: Invoice) -> str:
    if "clientflow.billing.invoice" in current_app.view_functions:
        return url_for("clientflow.billing.invoice", invoice_id=invoice.id)
    return url_for(".index")
