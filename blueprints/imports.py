"""ClientFlow's import page: upload the history files, check them, import them.

Checking writes nothing but the checked files, kept encrypted in the database
under a random batch key (:mod:`clientflow_plugin.import_uploads`) so that the
confirmation works whichever host serves it. Importing checks those files
again and writes everything in one transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from clientflow_plugin import import_uploads, imports
from clientflow_plugin.formatting import reader_locale
from clientflow_plugin.forms.imports import (
    FILE_LABELS,
    METHOD_LABELS,
    STATUS_LABELS,
    ConfirmForm,
    UploadForm,
)
from clientflow_plugin.spreadsheets import COMMA, POINT
from host_stub.sdk import current_workspace, db

logger = logging.getLogger(__name__)

bp = Blueprint("imports", __name__, url_prefix="/imports")

#: The largest file the page takes; bigger histories go through the command.
DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
#: Problems listed on the page; the rest are counted.
SHOWN_PROBLEMS = 500
DECIMAL_MARKS = {"comma": COMMA, "point": POINT}

INVALID = 422


def max_file_bytes() -> int:
    return int(
        current_app.config.get(
            "CLIENTFLOW_IMPORT_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES
        )
    )


def size_text(size: int) -> str:
    """A size in bytes for people: "5 MB", "1.5 MB", "900 KB"."""
    if size >= 1024 * 1024:
        return format_decimal(size / (1024 * 1024), format="#,##0.#") + " MB"
    return format_decimal(max(size // 1024, 1), format="#,##0") + " KB"


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "file_labels": FILE_LABELS,
        "status_labels": STATUS_LABELS,
        "method_labels": METHOD_LABELS,
        "max_file_size": size_text(max_file_bytes()),
        "import_columns": imports.COLUMNS,
    }


def _workspace():
    return current_workspace._get_current_object()


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge):
    # A redirect, because any page with a form would read the refused body
    # again; the message waits in the session for the upload page.
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    flash(
        _(
            "The files together are larger than %(size)s, the most one upload "
            "may hold. Upload them one or two at a time, or use the command "
            "`flask clientflow import`.",
            size=size_text(limit),
        ),
        "error",
    )
    return redirect(url_for(".index"))


@bp.route("/")
def index():
    return render_template("clientflow/imports/index.html", form=UploadForm())


@bp.route("/check", methods=["POST"])
def check():
    """Check the uploaded files and show what the import would do."""
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("clientflow/imports/index.html", form=form), INVALID
    uploads = _read_uploads(form)
    if uploads is None:
        return render_template("clientflow/imports/index.html", form=form), INVALID

    workspace = _workspace()
    decimal = form.decimal.data or ""
    plan = imports.check(
        db.session,
        workspace,
        uploads,
        decimal=DECIMAL_MARKS.get(decimal),
        locale=reader_locale(),
    )
    confirm = None
    if plan.ok and not plan.empty:
        batch = import_uploads.stage(
            db.session, workspace.id, uploads, g.get("clientflow_actor_id")
        )
        db.session.commit()
        confirm = ConfirmForm(formdata=None, batch=batch, decimal=decimal)
    else:
        db.session.rollback()
    return _render_plan(plan, confirm)


@bp.route("/run", methods=["POST"])
def run():
    """Import the files of a check, after checking them once more."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("Choose the files and check them first."), "error")
        return redirect(url_for(".index"))
    workspace = _workspace()
    uploads = import_uploads.staged(db.session, workspace.id, form.batch.data)
    if uploads is None:
        flash(
            _(
                "These files are no longer kept: they were imported already, or "
                "checked more than a day ago. Upload them again."
            ),
            "error",
        )
        return redirect(url_for(".index"))

    plan = imports.check(
        db.session,
        workspace,
        uploads,
        decimal=DECIMAL_MARKS.get(form.decimal.data or ""),
        locale=reader_locale(),
    )
    if not plan.ok:
        # The workspace changed since the check (a tax rate renamed...).
        db.session.rollback()
        return _render_plan(plan, None), INVALID
    # Forgotten in the import's own transaction: a second click finds nothing.
    import_uploads.discard(db.session, workspace.id, form.batch.data)
    try:
        summary = imports.apply(
            db.session, workspace, plan, user_id=g.get("clientflow_actor_id")
        )
    except imports.ImportConflict as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    except Exception:
        logger.exception("import into %s failed", workspace.slug)
        raise

    flash(summary.message(), "success")
    for message in plan.skipped_messages():
        flash(message, "info")
    return redirect(url_for(".index"))


def _read_uploads(form: UploadForm) -> list[imports.Upload] | None:
    """The files given, or None with the form's errors set."""
    limit = max_file_bytes()
    uploads = []
    for kind in imports.FILE_KINDS:
        field = form[kind]
        storage = field.data
        if storage is None or not getattr(storage, "filename", ""):
            continue
        data = storage.read(limit + 1)
        name = storage.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        if len(data) > limit:
            field.errors.append(
                _(
                    "“%(name)s” is larger than %(size)s, the most this page takes. "
                    "Split it, or import it with the command "
                    "`flask clientflow import`.",
                    name=name,
                    size=size_text(limit),
                )
            )
            continue
        if not data.strip():
            field.errors.append(_("“%(name)s” is empty.", name=name))
            continue
        uploads.append(imports.Upload(kind, name, data))
    if any(form[kind].errors for kind in imports.FILE_KINDS):
        return None
    if not uploads:
        form.form_errors.append(_("Choose at least one file."))
        return None
    return uploads


def _render_plan(plan: imports.Plan, confirm: ConfirmForm | None):
    return render_template(
        "clientflow/imports/check.html",
        plan=plan,
        counts=plan.counts(),
        preview=plan.preview(),
        problems=plan.problems[:SHOWN_PROBLEMS],
        hidden_problems=max(len(plan.problems) - SHOWN_PROBLEMS, 0),
        confirm=confirm,
    )
