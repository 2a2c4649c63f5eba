"""The host's own pages: workspaces, members, settings, plugin admin, outbox."""

from __future__ import annotations

import logging
from zoneinfo import available_timezones

from babel import Locale
from babel.numbers import list_currencies
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from .extensions import db
from .models import Membership, OutboxMessage, PluginState, Workspace
from .navigation import nav_links
from .plugin_state import set_enabled

logger = logging.getLogger(__name__)

bp = Blueprint("host", __name__)

LANGUAGE_CHOICES = [("en", "English"), ("es", "Español")]


class WorkspaceSettingsForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    timezone = SelectField(_l("Time zone"))
    currency = SelectField(_l("Currency"))
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)


class AccountForm(FlaskForm):
    display_name = StringField(
        _l("Display name"), validators=[DataRequired(), Length(max=120)]
    )
    language = SelectField(
        _l("Language"), choices=[("", _l("Workspace default"))] + LANGUAGE_CHOICES
    )


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that post."""


def require_member() -> Membership:
    if not current_user.is_authenticated:
        abort(401)
    if g.get("workspace") is None or g.get("membership") is None:
        abort(404)
    return g.membership


@bp.route("/")
@login_required
def home():
    memberships = db.session.scalars(
        select(Membership)
        .where(Membership.user_id == current_user.id)
        .join(Membership.workspace)
        .order_by(Workspace.name)
    ).all()
    if len(memberships) == 1 and not current_user.is_platform_admin:
        return redirect(
            url_for("host.workspace_home", workspace=memberships[0].workspace.slug)
        )
    return render_template("host/home.html", memberships=memberships)


@bp.route("/w/<workspace>/")
@login_required
def workspace_home():
    member = require_member()
    team = db.session.scalars(
        select(Membership)
        .where(Membership.workspace_id == member.workspace_id)
        .order_by(Membership.role)
    ).all()
    return render_template("host/workspace_home.html", member=member, team=team)


@bp.route("/w/<workspace>/members")
@login_required
def members():
    member = require_member()
    team = db.session.scalars(
        select(Membership).where(Membership.workspace_id == member.workspace_id)
    ).all()
    return render_template("host/members.html", team=team)


@bp.route("/w/<workspace>/settings", methods=["GET", "POST"])
@login_required
def settings():
    member = require_member()
    if member.role != "agency_owner":
        abort(403)
    ws = g.workspace
    form = WorkspaceSettingsForm(obj=ws)
    form.timezone.choices = sorted(available_timezones())
    form.currency.choices = sorted(list_currencies())
    if form.validate_on_submit():
        form.populate_obj(ws)
        db.session.commit()
        logger.info("workspace %s settings changed by %s", ws.slug, current_user.id)
        flash(_("Settings saved."), "success")
        return redirect(url_for("host.settings", workspace=ws.slug))
    return render_template("host/settings.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = AccountForm(obj=current_user)
    if form.validate_on_submit():
        current_user.display_name = form.display_name.data
        current_user.language = form.language.data or None
        db.session.commit()
        flash(_("Account saved."), "success")
        return redirect(url_for("host.account"))
    return render_template("host/account.html", form=form)


@bp.route("/admin/plugins", methods=["GET", "POST"])
@login_required
def admin_plugins():
    if not current_user.is_platform_admin:
        abort(403)
    plugins = current_app.extensions["workspace_plugins"]
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        workspace = db.get_or_404(Workspace, request.form.get("workspace_id", type=int))
        name = request.form.get("plugin", "")
        record = plugins.records.get(name)
        if record is None or record.failed:
            abort(404)
        action = request.form.get("action")
        if action not in ("enable", "disable"):
            abort(400)
        enable = action == "enable"
        set_enabled(workspace, name, enable, current_user)
        flash(
            _(
                "%(plugin)s enabled for %(workspace)s.",
                plugin=name,
                workspace=workspace.name,
            )
            if enable
            else _(
                "%(plugin)s disabled for %(workspace)s.",
                plugin=name,
                workspace=workspace.name,
            ),
            "success",
        )
        return redirect(url_for("host.admin_plugins"))
    workspaces = db.session.scalars(select(Workspace).order_by(Workspace.name)).all()
    states = {
        (s.workspace_id, s.plugin): s for s in db.session.scalars(select(PluginState))
    }
    return render_template(
        "host/admin_plugins.html",
        records=list(plugins.records.values()),
        workspaces=workspaces,
        states=states,
        form=form,
    )


@bp.route("/dev/outbox")
@login_required
def outbox():
    if not current_app.config["DEV_OUTBOX"] or not current_user.is_platform_admin:
        abort(404)
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)
    ).all()
    return render_template("host/outbox.html", messages=messages)


@bp.route("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _layout_globals():
        workspace = g.get("workspace")
        nav = []
        if workspace is not None and g.get("membership") is not None:
            nav = nav_links(workspace)
        lang = str(_current_locale())
        return {
            "workspace_nav": nav,
            "current_workspace": workspace,
            "current_language": lang,
            "logout_form": EmptyForm(formdata=None),
            "role_label": role_label,
        }

    @app.errorhandler(401)
    def _unauthorized(error):
        return render_template("host/error.html", error=error), 401

    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, _render_error)


ROLE_LABELS = {
    "agency_owner": _l("Agency Owner"),
    "manager": _l("Manager"),
    "developer": _l("Developer"),
    "client": _l("Client"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def _render_error(error):
    if request.accept_mimetypes.best == "application/json" or request.path.startswith(
        "/api"
    ):
        return {"error": error.name, "message": error.description}, error.code
    return render_template("host/error.html", error=error), error.code


def _current_locale():
    from flask_babel import get_locale

    return get_locale() or Locale("en")
