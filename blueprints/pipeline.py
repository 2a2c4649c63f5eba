"""ClientFlow's pipeline pages: the board, opportunities, follow-ups, losses.

The views read the request, call :mod:`clientflow_plugin.pipeline` and
render; every rule lives there. The owner guard of the parent blueprint has
already checked the workspace, the plugin state and the role.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from io import BytesIO

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage

from host_stub.sdk import current_workspace

from .. import pipeline
from ..clock import add_months, today_in
from ..formatting import money, percent, reader_locale
from ..forms.pipeline import (
    FollowUpForm,
    LostForm,
    LostReasonForm,
    MoveForm,
    OpportunityForm,
    PeriodForm,
    WonForm,
)
from ..models import OPEN_STAGES, Client, ClientStatus, Opportunity, Stage
from ..money import MoneyError, format_plain, parse_amount
from ..pipeline import (
    CLOSED_STAGES,
    MAX_PROPOSAL_BYTES,
    STAGES,
    PipelineError,
    ProposalUpload,
    stage_label,
)

logger = logging.getLogger(__name__)

bp = Blueprint("pipeline", __name__, url_prefix="/pipeline")

TEMPLATES = "clientflow/pipeline/"

#: Form field of each domain error key where the two names differ.
ERROR_FIELDS = {"value_minor": "value", "proposal": "proposal_file"}

#: The clients area's page of one client, linked when that area is installed.
CLIENT_ENDPOINT = "clientflow.clients.detail"

#: Pages a move form may send the owner back to.
RETURN_TO = {"board": "board", "detail": "detail", "follow_ups": "follow_ups"}


class ButtonForm(FlaskForm):
    """Only the CSRF token, for buttons that post."""


@bp.context_processor
def _pipeline_globals() -> dict:
    defaults = ", ".join(
        f"{stage_label(s)} {pipeline.DEFAULT_PROBABILITY[s]} %" for s in OPEN_STAGES
    )
    return {
        "stage_label": stage_label,
        "STAGES": STAGES,
        "OPEN_STAGES": OPEN_STAGES,
        "probability_defaults": defaults,
    }


@bp.errorhandler(413)
def _too_large(error):
    """A body over the platform's limit: back to the form with a message."""
    message = _("The proposal file is larger than 10 MB.")
    if _wants_json():
        return jsonify(error=message), 413
    flash(message, "error")
    if request.endpoint in ("clientflow.pipeline.new", "clientflow.pipeline.edit"):
        return redirect(request.path)
    return redirect(url_for(".board"))


def _workspace():
    return current_workspace._get_current_object()


def _actor_id() -> int:
    return g.clientflow_actor_id


def _wants_json() -> bool:
    accept = request.accept_mimetypes
    return accept.best == "application/json"


def _opportunity_or_404(opportunity_id: int) -> Opportunity:
    opportunity = pipeline.get_opportunity(_workspace().id, opportunity_id)
    if opportunity is None:
        abort(404)
    return opportunity


def _show_errors(form: FlaskForm, error: PipelineError) -> None:
    """Put the domain's messages on the form's fields, the rest in a flash."""
    for key, message in error.errors.items():
        field = form._fields.get(ERROR_FIELDS.get(key, key))
        if field is None:
            flash(message, "error")
        else:
            field.errors = [*field.errors, message]


def _upload(data) -> ProposalUpload | None:
    """The uploaded file, read up to one byte over the limit so size is known."""
    if not isinstance(data, FileStorage) or not data.filename:
        return None
    content = data.stream.read(MAX_PROPOSAL_BYTES + 1)
    return ProposalUpload(filename=data.filename, content=content)


def _prepare_opportunity_form(form: OpportunityForm, opportunity=None) -> None:
    workspace = _workspace()
    choices = pipeline.client_choices(workspace.id)
    if opportunity is not None and opportunity.client_id is not None:
        # An archived client stays selectable on the opportunity it is on.
        if all(cid != opportunity.client_id for cid, _label in choices):
            client = opportunity.client
            choices.append((client.id, client.name))
    form.client_id.choices = [("", _("— A new prospect —"))] + choices
    form.value.description = workspace.currency


def _form_values(form: OpportunityForm) -> dict | None:
    """The form's data as the domain's keyword arguments; None on a bad amount."""
    workspace = _workspace()
    text = (form.value.data or "").strip()
    value_minor = 0
    if text:
        try:
            value_minor = parse_amount(text, workspace.currency, reader_locale())
        except MoneyError:
            form.value.errors = [
                *form.value.errors,
                _("Enter an amount such as 1500.00."),
            ]
            return None
    return {
        "client_id": form.client_id.data,
        "prospect_name": form.prospect_name.data,
        "prospect_company": form.prospect_company.data,
        "title": form.title.data,
        "value_minor": value_minor,
        "probability": form.probability.data,
        "proposal_url": form.proposal_url.data,
        "proposal_sent_on": form.proposal_sent_on.data,
        "next_follow_up": form.next_follow_up.data,
        "next_step": form.next_step.data,
        "notes": form.notes.data,
    }


# -- the board ---------------------------------------------------------------


@bp.get("/")
def board():
    """The board; ``?<stage>=N`` shows N cards of that column (clamped)."""
    workspace = _workspace()
    today = today_in(workspace)
    limits = {stage: request.args.get(stage.value, type=int) for stage in STAGES}
    data = pipeline.board(
        workspace.id,
        closed_since=_closed_since(today),
        today=today,
        limits=limits,
    )
    return render_template(
        TEMPLATES + "board.html",
        board=data,
        today=today,
        currency=workspace.currency,
        overdue=data.overdue,
        more_urls=_more_urls(data),
        move_form=MoveForm(),
        closed_days=pipeline.BOARD_CLOSED_DAYS,
    )


def _more_urls(data: pipeline.Board) -> dict[Stage, str]:
    """Per truncated column, the board with more of its cards.

    Columns already opened further keep their limits, and the link jumps to
    the first card that was not shown yet.
    """
    opened = {
        column.stage.value: column.limit
        for column in data.columns
        if column.limit > pipeline.BOARD_CARDS
    }
    return {
        column.stage: url_for(
            ".board",
            **{**opened, column.stage.value: column.next_limit},
            _anchor=f"{column.stage.value}-{len(column.cards) + 1}",
        )
        for column in data.columns
        if column.next_limit
    }


def _closed_since(today: date) -> date:
    return today - timedelta(days=pipeline.BOARD_CLOSED_DAYS)


def _columns_json(workspace) -> list[dict]:
    closed_since = _closed_since(today_in(workspace))
    per_stage, _open = pipeline.stage_totals(workspace.id, closed_since=closed_since)
    return [
        {
            "stage": stage.value,
            "count": totals.count,
            "total": money(totals.total_minor, workspace.currency),
            "weighted": money(totals.weighted_minor, workspace.currency),
        }
        for stage, totals in per_stage.items()
    ]


def _back(opportunity: Opportunity, return_to: str | None):
    target = RETURN_TO.get(return_to or "", "board")
    if target == "detail":
        return redirect(url_for(".detail", opportunity_id=opportunity.id))
    return redirect(url_for("." + target))


@bp.post("/<int:opportunity_id>/move")
def move(opportunity_id: int):
    """Move a card: a JSON answer for the board's script, a redirect otherwise."""
    opportunity = _opportunity_or_404(opportunity_id)
    workspace = _workspace()
    form = MoveForm()
    return_to = request.form.get("return_to")

    if not form.validate_on_submit():
        message = _("Choose one of the pipeline's stages.")
        if _wants_json():
            errors = {k: [str(m) for m in v] for k, v in form.errors.items()}
            return jsonify(error=message, errors=errors), 400
        flash(message, "error")
        return _back(opportunity, return_to)

    stage = Stage(form.stage.data)
    needs_form = stage == Stage.LOST or (
        stage == Stage.WON and _can_convert(opportunity)
    )
    if needs_form and stage != opportunity.stage:
        # Losing asks for the reason, winning a prospect offers to make it a
        # client: both have their own page, never a silent move.
        endpoint = ".lost" if stage == Stage.LOST else ".won"
        url = url_for(endpoint, opportunity_id=opportunity.id)
        if _wants_json():
            message = (
                _("Choose why the opportunity was lost.")
                if stage == Stage.LOST
                else _("Confirm the win.")
            )
            return jsonify(error=message, redirect=url), 409
        return redirect(url)

    try:
        pipeline.move_stage(
            opportunity,
            stage,
            actor_id=_actor_id(),
            position=form.position.data,
            closed_since=_closed_since(today_in(workspace)),
        )
    except PipelineError as error:
        if _wants_json():
            return jsonify(error=str(error), errors=error.errors), 400
        flash(str(error), "error")
        return _back(opportunity, return_to)

    if _wants_json():
        return jsonify(
            opportunity={
                "id": opportunity.id,
                "stage": opportunity.stage,
                "probability": opportunity.probability,
                "probability_label": percent(opportunity.probability),
            },
            columns=_columns_json(workspace),
        )
    flash(
        _("Moved to %(stage)s.", stage=stage_label(opportunity.stage)),
        "success",
    )
    return _back(opportunity, return_to)


# -- one opportunity ---------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def new():
    workspace = _workspace()
    form = OpportunityForm()
    _prepare_opportunity_form(form)
    if request.method == "GET":
        if request.args.get("stage") in {s.value for s in OPEN_STAGES}:
            form.stage.data = request.args["stage"]
        client_id = request.args.get("client_id", type=int)
        if any(cid == client_id for cid, _label in form.client_id.choices):
            form.client_id.data = client_id

    if form.validate_on_submit():
        values = _form_values(form)
        if values is not None:
            try:
                opportunity = pipeline.create_opportunity(
                    workspace,
                    actor_id=_actor_id(),
                    stage=form.stage.data,
                    proposal=_upload(form.proposal_file.data),
                    **values,
                )
            except PipelineError as error:
                _show_errors(form, error)
            else:
                flash(_("Opportunity added."), "success")
                return redirect(url_for(".detail", opportunity_id=opportunity.id))
    return render_template(
        TEMPLATES + "form.html", form=form, opportunity=None, proposal=None
    ), (400 if form.errors else 200)


@bp.route("/<int:opportunity_id>/edit", methods=["GET", "POST"])
def edit(opportunity_id: int):
    opportunity = _opportunity_or_404(opportunity_id)
    workspace = _workspace()
    form = OpportunityForm(obj=opportunity)
    _prepare_opportunity_form(form, opportunity)
    del form.stage
    if request.method == "GET":
        form.value.data = format_plain(opportunity.value_minor, workspace.currency)

    if form.validate_on_submit():
        values = _form_values(form)
        if values is not None:
            try:
                pipeline.update_opportunity(
                    opportunity,
                    actor_id=_actor_id(),
                    proposal=_upload(form.proposal_file.data),
                    remove_proposal_file=form.remove_proposal_file.data,
                    **values,
                )
            except PipelineError as error:
                _show_errors(form, error)
            else:
                flash(_("Opportunity saved."), "success")
                return redirect(url_for(".detail", opportunity_id=opportunity.id))
    return render_template(
        TEMPLATES + "form.html",
        form=form,
        opportunity=opportunity,
        proposal=pipeline.proposal_file_info(opportunity),
    ), (400 if form.errors else 200)


@bp.get("/<int:opportunity_id>")
def detail(opportunity_id: int):
    opportunity = _opportunity_or_404(opportunity_id)
    workspace = _workspace()
    move_form = MoveForm()
    open_choices = [(s.value, stage_label(s)) for s in OPEN_STAGES]
    if opportunity.stage in CLOSED_STAGES:
        move_form.stage.choices = open_choices
    else:
        move_form.stage.choices = [
            c for c in move_form.stage.choices if c[0] != opportunity.stage
        ]
    follow_form = FollowUpForm(obj=opportunity)
    client_url = None
    if opportunity.client_id and CLIENT_ENDPOINT in current_app.view_functions:
        client_url = url_for(CLIENT_ENDPOINT, client_id=opportunity.client_id)
    return render_template(
        TEMPLATES + "detail.html",
        opportunity=opportunity,
        currency=workspace.currency,
        today=today_in(workspace),
        weighted=pipeline.weighted_minor(
            opportunity.value_minor, opportunity.probability
        ),
        history=pipeline.stage_history(opportunity.id),
        proposal=pipeline.proposal_file_info(opportunity),
        move_form=move_form,
        follow_form=follow_form,
        can_convert=_can_convert(opportunity),
        client_url=client_url,
    )


@bp.get("/<int:opportunity_id>/proposal")
def proposal(opportunity_id: int):
    """The uploaded PDF, as a download that the browser never renders inline."""
    opportunity = _opportunity_or_404(opportunity_id)
    stored = pipeline.proposal_file(opportunity)
    if stored is None:
        abort(404)

    logger.info(
        "proposal of opportunity %s downloaded by %s", opportunity.id, _actor_id()
    )
    response = send_file(
        BytesIO(stored.content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=stored.filename,
        etag=stored.sha256,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _can_convert(opportunity: Opportunity) -> bool:
    """Whether winning may turn the prospect into a client."""
    if opportunity.client_id is None:
        return True
    client = opportunity.client
    return client is not None and client.status == ClientStatus.PROSPECT


def _prospect_name(opportunity: Opportunity) -> str:
    client: Client | None = opportunity.client
    if client is not None:
        return client.name
    return opportunity.prospect_name or opportunity.prospect_company


@bp.route("/<int:opportunity_id>/won", methods=["GET", "POST"])
def won(opportunity_id: int):
    opportunity = _opportunity_or_404(opportunity_id)
    if opportunity.stage == Stage.WON:
        flash(_("This opportunity is already won."), "info")
        return redirect(url_for(".detail", opportunity_id=opportunity.id))
    can_convert = _can_convert(opportunity)
    form = WonForm()
    if request.method == "GET":
        form.project_name.data = opportunity.title

    if form.validate_on_submit():
        try:
            pipeline.move_stage(
                opportunity,
                Stage.WON,
                actor_id=_actor_id(),
                create_client=can_convert and form.create_client.data,
                project_name=form.project_name.data,
            )
        except PipelineError as error:
            _show_errors(form, error)
        else:
            if can_convert and form.create_client.data:
                flash(
                    _(
                        "Won! %(name)s is now a client with a first project.",
                        name=_prospect_name(opportunity),
                    ),
                    "success",
                )
            else:
                flash(_("Won!"), "success")
            return redirect(url_for(".detail", opportunity_id=opportunity.id))
    return render_template(
        TEMPLATES + "won.html",
        form=form,
        opportunity=opportunity,
        can_convert=can_convert,
        prospect=_prospect_name(opportunity),
        currency=_workspace().currency,
    ), (400 if form.errors else 200)


@bp.route("/<int:opportunity_id>/lost", methods=["GET", "POST"])
def lost(opportunity_id: int):
    opportunity = _opportunity_or_404(opportunity_id)
    workspace = _workspace()
    if opportunity.stage == Stage.LOST:
        flash(_("This opportunity is already lost."), "info")
        return redirect(url_for(".detail", opportunity_id=opportunity.id))
    reasons = pipeline.lost_reasons(workspace.id)
    form = LostForm()
    form.lost_reason_id.choices = [(r.id, r.label) for r in reasons]

    if form.validate_on_submit():
        try:
            pipeline.move_stage(
                opportunity,
                Stage.LOST,
                actor_id=_actor_id(),
                lost_reason_id=form.lost_reason_id.data,
                lost_note=form.lost_note.data,
            )
        except PipelineError as error:
            _show_errors(form, error)
        else:
            flash(_("Marked as lost."), "success")
            return redirect(url_for(".board"))
    return render_template(
        TEMPLATES + "lost.html",
        form=form,
        opportunity=opportunity,
        reasons=reasons,
        prospect=_prospect_name(opportunity),
        currency=workspace.currency,
    ), (400 if form.errors else 200)


@bp.post("/<int:opportunity_id>/follow-up")
def follow_up(opportunity_id: int):
    """Set the next follow-up date and step, e.g. after this week's call."""
    opportunity = _opportunity_or_404(opportunity_id)
    form = FollowUpForm()
    return_to = request.form.get("return_to")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return _back(opportunity, return_to)

    try:
        pipeline.update_opportunity(
            opportunity,
            actor_id=_actor_id(),
            next_follow_up=form.next_follow_up.data,
            next_step=form.next_step.data,
        )
    except PipelineError as error:
        flash(str(error), "error")
    else:
        flash(_("Follow-up saved."), "success")
    return _back(opportunity, return_to)


# -- follow-ups, reasons, report -------------------------------------------


@bp.get("/follow-ups")
def follow_ups():
    workspace = _workspace()
    data = pipeline.follow_ups(workspace)
    return render_template(
        TEMPLATES + "follow_ups.html",
        data=data,
        last_day=data.week_end - timedelta(days=1),
        currency=workspace.currency,
    )


@bp.route("/lost-reasons", methods=["GET", "POST"])
def lost_reasons():
    workspace = _workspace()
    form = LostReasonForm()
    if form.validate_on_submit():
        try:
            reason = pipeline.add_lost_reason(
                workspace.id, form.label.data, is_other=form.is_other.data
            )
        except PipelineError as error:
            _show_errors(form, error)
        else:
            flash(_("Reason “%(label)s” added.", label=reason.label), "success")
            return redirect(url_for(".lost_reasons"))
    return render_template(
        TEMPLATES + "lost_reasons.html",
        form=form,
        button_form=ButtonForm(),
        reasons=pipeline.lost_reasons(workspace.id, include_archived=True),
        usage=pipeline.lost_reason_usage(workspace.id),
    ), (400 if form.errors else 200)


@bp.post("/lost-reasons/<int:reason_id>/archive")
def archive_lost_reason(reason_id: int):
    reason = pipeline.get_lost_reason(_workspace().id, reason_id)
    if reason is None:
        abort(404)
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    archive = request.form.get("archived", "1") == "1"

    try:
        pipeline.set_lost_reason_archived(reason, archive)
    except PipelineError as error:
        flash(str(error), "error")
    else:
        flash(
            _("Reason archived.") if archive else _("Reason back in the list."),
            "success",
        )
    return redirect(url_for(".lost_reasons"))


def _period(preset: str | None, today: date) -> tuple[date, date]:
    """A named period as [first day, last day], both included."""
    month_start = today.replace(day=1)
    if preset == "this_month":
        return month_start, today
    if preset == "last_month":
        start = add_months(month_start, -1)
        return start, month_start - timedelta(days=1)
    if preset == "this_quarter":
        return month_start.replace(month=(today.month - 1) // 3 * 3 + 1), today
    if preset == "last_12_months":
        return add_months(month_start, -11), today
    return today.replace(month=1, day=1), today


PRESETS = (
    ("this_month", _l("This month")),
    ("last_month", _l("Last month")),
    ("this_quarter", _l("This quarter")),
    ("this_year", _l("This year")),
    ("last_12_months", _l("Last 12 months")),
)


@bp.get("/lost-report")
def lost_report():
    """Losses per reason and per stage reached, over a period the owner picks."""
    workspace = _workspace()
    form = PeriodForm(formdata=request.args)
    preset = request.args.get("preset")
    if preset not in dict(PRESETS):
        preset = "this_year"
    start, last = _period(preset, today_in(workspace))
    status = 200

    if request.args.get("start") or request.args.get("end"):
        if not form.validate() or not (form.start.data and form.end.data):
            if not form.errors:
                form.end.errors = [_("Give both the first and the last day.")]
            status = 400
        elif form.start.data > form.end.data:
            form.end.errors = [_("The period must end after it starts.")]
            status = 400
        else:
            start, last, preset = form.start.data, form.end.data, None
    else:
        form.start.data, form.end.data = start, last

    report = pipeline.lost_report(workspace.id, start, last + timedelta(days=1))
    return render_template(
        TEMPLATES + "lost_report.html",
        form=form,
        report=report,
        last=last,
        preset=preset,
        presets=PRESETS,
        currency=workspace.currency,
    ), status
