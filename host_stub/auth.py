"""Log-in, log-out and the per-workspace identity of each request."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
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
from flask_login import current_user, login_required, login_user, logout_user
from flask_principal import AnonymousIdentity, Identity, identity_loaded
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from .extensions import db, login_manager, principal
from .models import Membership, User, Workspace

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in"))


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == form.email.data.lower())
        )
        if user is not None and user.check_password(form.password.data):
            login_user(user, remember=form.remember.data)
            logger.info("user %s logged in", user.id)
            return redirect(_safe_next(request.args.get("next")))
        logger.warning("failed log-in attempt")
        flash(_("Wrong email or password."), "error")
    return render_template("host/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # A new session version voids every remember-me cookie issued before.
    user = db.session.get(User, current_user.id)
    user.session_version += 1
    db.session.commit()
    logout_user()
    flash(_("You have been signed out."), "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("host.home")


def _load_identity():
    if current_user.is_authenticated:
        return Identity(current_user.id, "session")
    return AnonymousIdentity()


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    principal.identity_loader(_load_identity)
    app.register_blueprint(bp)

    # Views never take the workspace slug: it is loaded into ``g`` here and
    # filled back into every URL built while the request lasts.
    @app.url_value_preprocessor
    def _take_workspace(endpoint, values):
        if values and "workspace" in values:
            g.workspace_slug = values.pop("workspace")

    @app.url_defaults
    def _give_workspace(endpoint, values):
        if "workspace" in values or "workspace_slug" not in g:
            return
        if app.url_map.is_endpoint_expecting(endpoint, "workspace"):
            values["workspace"] = g.workspace_slug

    @app.before_request
    def _load_workspace():
        slug = g.get("workspace_slug")
        if slug is None:
            return
        workspace = db.session.scalar(select(Workspace).where(Workspace.slug == slug))
        g.workspace = workspace
        g.membership = None
        if workspace is not None and current_user.is_authenticated:
            g.membership = db.session.scalar(
                select(Membership).where(
                    Membership.workspace_id == workspace.id,
                    Membership.user_id == current_user.id,
                )
            )

    @identity_loaded.connect_via(app)
    def _add_needs(sender, identity):
        if not current_user.is_authenticated:
            return
        memberships = db.session.scalars(
            select(Membership).where(Membership.user_id == current_user.id)
        ).all()
        plugins = current_app.extensions["workspace_plugins"]
        for member in memberships:
            identity.provides.add(("workspace_role", member.workspace_id, member.role))
            identity.provides.add(("workspace_member", member.workspace_id))
            plugins.call_each(
                "workspace_identity_loaded", identity=identity, member=member
            )
        if current_user.is_platform_admin:
            identity.provides.add(("platform_admin",))
