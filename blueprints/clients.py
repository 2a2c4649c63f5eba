"""ClientFlow's clients pages: the cards, a client's page and its forms.

Views read the request, call :mod:`clientflow_plugin.clients` and render; the
owner guard of the parent blueprint has already checked the workspace, the
plugin state and the role.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from clientflow_plugin import clients as domain
from clientflow_plugin.clock import today_in
from clientflow_plugin.forms.clients import (
    CLIENT_STATUS_LABELS,
    INTERACTION_KIND_LABELS,
    PROJECT_STATUS_LABELS,
    ClientFilterForm,
    ClientForm,
    ConfirmForm,
    InteractionForm,
    MessageForm,
    ProjectForm,
    ProjectStatusForm,
    apply_domain_errors,
)
from clientflow_plugin.models import Client, Project
from host_stub.sdk import MailError, current_user, current_workspace, db

logger = logging.getLogger(__name__)

bp = Blueprint("clients", __name__, url_prefix="/clients")

#: Endpoints of other areas this area links to once they exist.
NEW_INVOICE_ENDPOINT = "clientflow.billing.new_invoice"
INVOICE_ENDPOINT = "clientflow.billing.invoice"
OPPORTUNITY_ENDPOINT = "clientflow.pipeline.detail"

INVALID = 422

#: Invoices listed on a client's page before "show all".
INVOICES_SHOWN = 12


def optional_url(endpoint: str, **values: Any) -> str | None:
    """The URL of ``endpoint`` when another area provides it, else None."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "optional_url": optional_url,
        "client_status_labels": CLIENT_STATUS_LABELS,
        "project_status_labels": PROJECT_STATUS_LABELS,
        "interaction_kind_labels": INTERACTION_KIND_LABELS,
        "new_invoice_endpoint": NEW_INVOICE_ENDPOINT,
        "invoice_endpoint": INVOICE_ENDPOINT,
        "opportunity_endpoint": OPPORTUNITY_ENDPOINT,
    }


def _workspace():
    return current_workspace._get_current_object()


def _client_or_404(client_id: int) -> Client:
    client = domain.get_client(_workspace().id, client_id)
    if client is None:
        abort(404)
    return client


def _project_or_404(client: Client, project_id: int) -> Project:
    project = domain.get_project(client.workspace_id, client.id, project_id)
    if project is None:
        abort(404)
    return project


def _detail_url(client: Client, anchor: str | None = None) -> str:
    return url_for(".detail", client_id=client.id, _anchor=anchor)


# ---------------------------------------------------------------------------
# The cards


@bp.route("/")
def index():
    workspace = _workspace()
    filter_form = ClientFilterForm(request.args)
    filters = filter_form.normalise()
    page = domain.client_cards(
        workspace.id,
        search=filters["search"],
        status=filters["status"] or None,
        view=filters["view"],
        sort=filters["sort"],
        page=request.args.get("page", 1, type=int),
        currency=workspace.currency,
    )
    # Only non-default filters go into the page links, to keep them short.
    defaults = {"search": "", "status": "", "view": "current", "sort": "name"}
    kept = {
        ("q" if key == "search" else key): value
        for key, value in filters.items()
        if value != defaults[key]
    }
    return render_template(
        "clientflow/clients/index.html",
        page=page,
        filter_form=filter_form,
        filtered=bool(kept.keys() - {"sort"}),
        page_url=lambda number: url_for(".index", page=number, **kept),
    )


# ---------------------------------------------------------------------------
# A client


@bp.route("/new", methods=["GET", "POST"])
def new():
    workspace = _workspace()
    form = ClientForm()
    if form.validate_on_submit():
        try:
            client = domain.create_client(
                workspace.id, form.client_data(), user_id=current_user.id
            )
        except domain.ValidationError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            flash(_("Client created."), "success")
            return redirect(_detail_url(client))
    return _client_form(form, None)


def _client_form(form: ClientForm, client: Client | None):
    status = INVALID if form.errors or form.form_errors else 200
    return (
        render_template(
            "clientflow/clients/form.html",
            form=form,
            client=client,
            regions=domain.KNOWN_REGIONS,
            regions_in_use=domain.regions_in_use(_workspace().id),
        ),
        status,
    )


@bp.route("/<int:client_id>")
def detail(client_id: int):
    workspace = _workspace()
    client = _client_or_404(client_id)
    today = today_in(workspace)
    invoices = domain.invoices_of(workspace.id, client.id, today=today)
    all_invoices = request.args.get("invoices") == "all"
    return render_template(
        "clientflow/clients/detail.html",
        client=client,
        card=domain.client_figures(
            workspace.id, client.id, currency=workspace.currency
        ),
        projects=domain.projects_of(workspace.id, client.id),
        interactions=domain.interactions_of(workspace.id, client.id),
        invoices=invoices[:INVOICES_SHOWN] if not all_invoices else invoices,
        invoice_count=len(invoices),
        all_invoices=all_invoices,
        opportunities=domain.opportunities_of(workspace.id, client.id),
        blockers=domain.deletion_blockers(workspace.id, client.id),
        project_form=ProjectForm(formdata=None),
        status_form=ProjectStatusForm(formdata=None),
        interaction_form=InteractionForm(formdata=None, today=today),
        confirm_form=ConfirmForm(formdata=None),
        currency=workspace.currency,
    )


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
def edit(client_id: int):
    workspace = _workspace()
    client = _client_or_404(client_id)
    form = ClientForm(obj=client)
    if form.validate_on_submit():
        try:
            domain.update_client(
                workspace.id, client.id, form.client_data(), user_id=current_user.id
            )
        except domain.ValidationError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            flash(_("Client saved."), "success")
            return redirect(_detail_url(client))
    return _client_form(form, client)


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.route("/<int:client_id>/archive", methods=["POST"])
def archive(client_id: int):
    client = _client_or_404(client_id)
    _confirmed()

    domain.archive_client(client.workspace_id, client.id, user_id=current_user.id)
    db.session.commit()
    flash(
        _(
            "%(name)s is archived: hidden from the lists, history kept.",
            name=client.name,
        ),
        "success",
    )
    return redirect(_detail_url(client))


@bp.route("/<int:client_id>/unarchive", methods=["POST"])
def unarchive(client_id: int):
    client = _client_or_404(client_id)
    _confirmed()

    domain.unarchive_client(client.workspace_id, client.id, user_id=current_user.id)
    db.session.commit()
    flash(_("%(name)s is back in the client list.", name=client.name), "success")
    return redirect(_detail_url(client))


@bp.route("/<int:client_id>/delete", methods=["GET", "POST"])
def delete(client_id: int):
    client = _client_or_404(client_id)
    blockers = domain.deletion_blockers(client.workspace_id, client.id)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if not blockers:
            name = client.name
            domain.delete_client(
                client.workspace_id, client.id, user_id=current_user.id
            )
            db.session.commit()
            flash(_("%(name)s was deleted.", name=name), "success")
            return redirect(url_for(".index"))
    status = 409 if request.method == "POST" else 200
    return (
        render_template(
            "clientflow/clients/delete.html",
            client=client,
            blockers=blockers,
            form=form,
        ),
        status,
    )


# ---------------------------------------------------------------------------
# Projects


@bp.route("/<int:client_id>/projects/new", methods=["GET", "POST"])
def new_project(client_id: int):
    client = _client_or_404(client_id)
    form = ProjectForm()
    if form.validate_on_submit():
        try:
            domain.create_project(
                client.workspace_id,
                client.id,
                form.project_data(),
                user_id=current_user.id,
            )
        except domain.ValidationError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            flash(_("Project created."), "success")
            return redirect(_detail_url(client, "projects"))
    return _project_form(form, client, None)


@bp.route("/<int:client_id>/projects/<int:project_id>/edit", methods=["GET", "POST"])
def edit_project(client_id: int, project_id: int):
    client = _client_or_404(client_id)
    project = _project_or_404(client, project_id)
    form = ProjectForm(obj=project)
    if form.validate_on_submit():
        try:
            domain.update_project(
                client.workspace_id,
                client.id,
                project.id,
                form.project_data(),
                user_id=current_user.id,
            )
        except domain.ValidationError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
        else:
            db.session.commit()
            flash(_("Project saved."), "success")
            return redirect(_detail_url(client, "projects"))
    return _project_form(form, client, project)


@bp.route("/<int:client_id>/projects/<int:project_id>/status", methods=["POST"])
def project_status(client_id: int, project_id: int):
    client = _client_or_404(client_id)
    project = _project_or_404(client, project_id)
    form = ProjectStatusForm()
    if form.validate_on_submit():
        domain.update_project(
            client.workspace_id,
            client.id,
            project.id,
            {"status": form.status.data},
            user_id=current_user.id,
        )
        db.session.commit()
        flash(
            _(
                "%(project)s is now %(status)s.",
                project=project.name,
                status=PROJECT_STATUS_LABELS[project.status],
            ),
            "success",
        )
        return redirect(_detail_url(client, "projects"))

    # Show the whole project form, with the message beside its status.
    full = ProjectForm(formdata=None, obj=project)
    full.status.data = form.status.data
    full.status.errors = list(form.status.errors)
    full.form_errors = list(form.csrf_token.errors) if "csrf_token" in form else []
    return _project_form(full, client, project)


def _project_form(form: ProjectForm, client: Client, project: Project | None):
    status = INVALID if form.errors or form.form_errors else 200
    return (
        render_template(
            "clientflow/clients/project_form.html",
            form=form,
            client=client,
            project=project,
        ),
        status,
    )


# ---------------------------------------------------------------------------
# Interactions and messages


@bp.route("/<int:client_id>/interactions/new", methods=["GET", "POST"])
def new_interaction(client_id: int):
    workspace = _workspace()
    client = _client_or_404(client_id)
    form = InteractionForm(today=today_in(workspace))
    if form.validate_on_submit():
        try:
            domain.add_interaction(
                workspace.id,
                client.id,
                form.kind.data,
                form.summary.data,
                occurred_at=domain.interaction_moment(workspace, form.occurred_on.data),
                user_id=current_user.id,
            )
        except domain.ValidationError as error:
            db.session.rollback()
            apply_domain_errors(form, error, {"occurred_at": "occurred_on"})
        else:
            db.session.commit()
            flash(_("Interaction recorded."), "success")
            return redirect(_detail_url(client, "interactions"))
    status = INVALID if form.errors or form.form_errors else 200
    return (
        render_template(
            "clientflow/clients/interaction_form.html", form=form, client=client
        ),
        status,
    )


@bp.route("/<int:client_id>/message", methods=["GET", "POST"])
def message(client_id: int):
    workspace = _workspace()
    client = _client_or_404(client_id)
    form = MessageForm()
    if not form.is_submitted():
        form.body.data = (
            _("Hello %(name)s,", name=client.name)
            + "\n\n\n"
            + (f"{current_user.display_name}\n{workspace.name}")
        )
    status = 200
    if form.validate_on_submit():
        try:
            domain.send_message(
                workspace.id,
                client.id,
                form.subject.data,
                form.body.data,
                user_id=current_user.id,
                reply_to=current_user.email,
            )
        except domain.ValidationError as error:
            db.session.rollback()
            apply_domain_errors(form, error)
            status = INVALID
        except MailError:
            db.session.rollback()
            logger.warning(
                "message to client %s not sent: the mail server failed", client.id
            )
            form.form_errors = [
                _(
                    "The message was not sent: the mail server refused it or "
                    "could not be reached. Nothing was recorded; try again later."
                )
            ]
        else:
            db.session.commit()
            flash(_("Message sent to %(email)s.", email=client.email), "success")
            return redirect(_detail_url(client, "interactions"))
    elif form.errors:
        status = INVALID
    return (
        render_template("clientflow/clients/message.html", form=form, client=client),
        status,
    )
