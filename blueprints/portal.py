"""The invoice portal: by signed link, or signed in as a Client member.

A link opens exactly one invoice and its PDF; the URL carries no invoice id,
so nothing else is reachable from it. A Client member whose user is the
portal user of a ClientFlow client sees that client's projects and issued
invoices, never drafts and never another client's.
"""

from __future__ import annotations

import io
import logging

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clientflow_plugin import portal
from clientflow_plugin.access import manage_need, require_enabled_workspace
from clientflow_plugin.models import (
    Client,
    Invoice,
    InvoiceState,
    PortalToken,
    Project,
)
from clientflow_plugin.pdf import document_context, filename_of, render_invoice_pdf
from host_stub.sdk import (
    current_member,
    current_user,
    current_workspace,
    db,
    has_need,
)

logger = logging.getLogger(__name__)

URL_PREFIX = "/w/<workspace>/portal"

#: Longer than any token ``portal.create_link`` makes; longer ones are noise.
MAX_TOKEN_LENGTH = 256

PROJECT_STATUSES = {
    "active": _l("Active"),
    "paused": _l("Paused"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}

bp = Blueprint("clientflow_portal", __name__)


@bp.before_request
def _enabled_only():
    require_enabled_workspace()


@bp.after_request
def _private(response):
    # A portal URL is a credential: keep it out of Referer headers, caches
    # and search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _link_or_404(token: str) -> PortalToken:
    """The live link row of ``token``; 404 unless it opens an invoice here.

    An expired link raises ``LinkExpired``, answered by ``_expired`` below.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        abort(404)
    try:
        return portal.resolve_token(token, workspace_id=current_workspace.id)
    except portal.LinkNotFound:
        abort(404)


@bp.errorhandler(portal.LinkExpired)
def _expired(error: portal.LinkExpired):
    page = render_template(
        "clientflow/portal/expired.html",
        invoice=error.invoice,
        workspace=current_workspace,
    )
    return page, 410


@bp.get("/i/<token>")
def invoice(token: str):
    """The one invoice of a portal link, branded with the agency's name."""
    row = _link_or_404(token)
    found = db.session.get(Invoice, row.invoice_id)
    # "Last opened" tells the owner the client looked; the owner's own
    # previews would only blur that.
    if not has_need(manage_need(current_workspace.id)):
        portal.mark_opened(row)
    return render_template(
        "clientflow/portal/invoice.html",
        pdf_url=url_for(".invoice_pdf", token=token),
        **document_context(found),
    )


@bp.get("/i/<token>/pdf")
def invoice_pdf(token: str):
    """The PDF of the link's invoice."""
    row = _link_or_404(token)
    found = db.session.get(Invoice, row.invoice_id)
    return _pdf_response(found)


def _member_clients() -> list[Client]:
    """The clients the signed-in Client member logs in as; 403 for anyone else."""
    member = current_member._get_current_object()
    if member is None:
        abort(404)
    if member.role != "client":
        abort(403)
    clients = portal.clients_of_user(current_workspace.id, current_user.id)
    if not clients:
        logger.warning(
            "client member %s has no ClientFlow client in workspace %s",
            current_user.id,
            current_workspace.slug,
        )
        abort(403)
    return clients


def _login_first():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


@bp.get("/")
def home():
    """A Client member's own projects and issued invoices."""
    if (response := _login_first()) is not None:
        return response
    clients = _member_clients()
    ids = [c.id for c in clients]

    projects = db.session.scalars(
        select(Project)
        .where(Project.workspace_id == current_workspace.id, Project.client_id.in_(ids))
        .order_by(Project.name, Project.id)
    ).all()
    invoices = db.session.scalars(
        _member_invoices(ids)
        .options(selectinload(Invoice.payments))
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    ).all()
    documents = [document_context(i)["doc"] for i in invoices]
    return render_template(
        "clientflow/portal/home.html",
        clients=clients,
        projects=projects,
        documents=documents,
        project_status_label=lambda status: str(PROJECT_STATUSES.get(status, status)),
    )


@bp.get("/invoices/<int:invoice_id>")
def member_invoice(invoice_id: int):
    """One of the member's own issued invoices."""
    if (response := _login_first()) is not None:
        return response
    found = _member_invoice_or_404(invoice_id)

    return render_template(
        "clientflow/portal/member_invoice.html",
        pdf_url=url_for(".member_invoice_pdf", invoice_id=found.id),
        **document_context(found),
    )


@bp.get("/invoices/<int:invoice_id>/pdf")
def member_invoice_pdf(invoice_id: int):
    """The PDF of one of the member's own issued invoices."""
    if (response := _login_first()) is not None:
        return response
    return _pdf_response(_member_invoice_or_404(invoice_id))


def _member_invoices(client_ids: list[int]):
    return select(Invoice).where(
        Invoice.workspace_id == current_workspace.id,
        Invoice.client_id.in_(client_ids),
        Invoice.state == InvoiceState.ISSUED,
    )


def _member_invoice_or_404(invoice_id: int) -> Invoice:
    ids = [c.id for c in _member_clients()]
    found = db.session.scalar(_member_invoices(ids).where(Invoice.id == invoice_id))
    if found is None:
        abort(404)
    return found


def _pdf_response(found: Invoice):
    content = render_invoice_pdf(found)
    return send_file(
        io.BytesIO(content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=filename_of(found),
    )
