"""ClientFlow's integrations: API tokens for other software, and CSV exports."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from clientflow_plugin import api_tokens, clock, exports
from host_stub.sdk import current_workspace, db

logger = logging.getLogger(__name__)

bp = Blueprint("integrations", __name__, url_prefix="/integrations")


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=api_tokens.NAME_MAX_LENGTH)],
        description=_l("What uses the token, e.g. “Accounting sync”."),
    )


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking is one button."""


def _workspace():
    return current_workspace._get_current_object()


def _actor_id() -> int:
    from flask import g

    return g.clientflow_actor_id


def _tokens_page(form: TokenForm, secret: str | None = None, status: int = 200):
    workspace = _workspace()
    response = Response(
        render_template(
            "clientflow/integrations/tokens.html",
            form=form,
            revoke_form=RevokeForm(),
            tokens=api_tokens.tokens_of(workspace.id),
            new_secret=secret,
            api_root=url_for("clientflow.api.index", _external=True),
            openapi_url=url_for("clientflow.api.openapi", _external=True),
        ),
        status=status,
    )
    # The page may show a secret that exists nowhere else: keep it out of caches.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def index() -> Response:
    """The API tokens of the workspace, and a form to create one."""
    return _tokens_page(TokenForm())


@bp.post("/tokens")
def create_token() -> Response:
    """Create a token and show its secret, this once only."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, status=422)
    token, secret = api_tokens.create_token(
        _workspace().id, form.name.data, created_by_id=_actor_id()
    )
    flash(
        _(
            "Token “%(name)s” created. Copy it now: it will not be shown again.",
            name=token.name,
        ),
        "success",
    )
    return _tokens_page(TokenForm(formdata=None), secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    """Revoke a token; software that uses it is refused from now on."""
    if not RevokeForm().validate_on_submit():
        abort(400)
    token = api_tokens.revoke_token(_workspace().id, token_id, actor_id=_actor_id())
    if token is None:
        abort(404)
    flash(_("Token “%(name)s” revoked.", name=token.name), "success")
    return redirect(url_for(".index"))


@bp.get("/exports")
def exports_page() -> str:
    """Links to the CSV files of clients, invoices and opportunities."""
    return render_template("clientflow/integrations/exports.html")


def _csv_response(kind: str, export: Callable[[Session], Iterator[str]]) -> Response:
    """A CSV download written while it is sent, from a session of its own."""
    workspace = _workspace()
    filename = f"clientflow-{workspace.slug}-{kind}-{clock.today_in(workspace)}.csv"
    logger.info(
        "%s exported from workspace %s by %s", kind, workspace.slug, _actor_id()
    )
    app = current_app._get_current_object()
    engine = db.engine

    def generate() -> Iterator[str]:
        # The file is written after the view has returned. Its session is its
        # own; the app context (which decrypting needs) is pushed for each
        # chunk only, so nothing stays pushed between chunks, or if the
        # download is abandoned.
        with Session(engine) as session:
            chunks = export(session)
            while True:
                with app.app_context():
                    chunk = next(chunks, None)
                if chunk is None:
                    return
                yield chunk

    response = Response(generate(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/exports/clients.csv")
def export_clients() -> Response:
    """Every client of the workspace as a CSV file."""
    workspace_id = _workspace().id
    return _csv_response(
        "clients", lambda session: exports.clients_csv(session, workspace_id)
    )


@bp.get("/exports/invoices.csv")
def export_invoices() -> Response:
    """Every invoice of the workspace, with status and balance, as a CSV file."""
    workspace = _workspace()
    workspace_id, today = workspace.id, clock.today_in(workspace)
    return _csv_response(
        "invoices",
        lambda session: exports.invoices_csv(session, workspace_id, today),
    )


@bp.get("/exports/opportunities.csv")
def export_opportunities() -> Response:
    """Every opportunity of the workspace as a CSV file."""
    workspace = _workspace()
    workspace_id, currency = workspace.id, workspace.currency
    return _csv_response(
        "opportunities",
        lambda session: exports.opportunities_csv(session, workspace_id, currency),
    )
