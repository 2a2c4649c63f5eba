"""ClientFlow's sending pages: email an invoice, share its portal link, print it.

Every view sits behind the owner guard of the parent blueprint; invoices are
looked up within the current workspace, so another workspace's ids are 404.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from clientflow_plugin import portal
from clientflow_plugin.models import Invoice, PortalToken
from clientflow_plugin.pdf import filename_of, render_invoice_pdf
from clientflow_plugin.sending import SendError, portal_url, send_invoice
from host_stub.sdk import current_workspace, db

logger = logging.getLogger(__name__)

bp = Blueprint("sending", __name__, url_prefix="/sending")

INVOICE_PAGE = "clientflow.billing.invoice"


@bp.app_template_global("clientflow_portal_links")
def portal_links(invoice: Invoice) -> list[PortalToken]:
    """The live portal links of ``invoice``, for the invoice actions partial."""
    return portal.links_of(invoice)


@bp.app_template_global("clientflow_local_date")
def local_date(moment: datetime) -> str:
    """The calendar date of ``moment`` in the workspace's zone, for the reader."""
    return format_date(moment, "medium")


@bp.after_request
def _no_store(response):
    # Pages here may show a fresh portal link or a client's figures: keep them
    # out of caches and keep their URL out of Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _invoice_or_404(invoice_id: int) -> Invoice:
    invoice = db.session.scalar(
        select(Invoice).where(
            Invoice.id == invoice_id, Invoice.workspace_id == current_workspace.id
        )
    )
    if invoice is None:
        abort(404)
    return invoice


def _back(invoice: Invoice):
    """The invoice's own page when billing offers one, else the sharing page."""
    if INVOICE_PAGE in current_app.view_functions:
        target = url_for(INVOICE_PAGE, invoice_id=invoice.id)
    else:
        target = url_for(".link", invoice_id=invoice.id)
    return redirect(target, code=303)


@bp.post("/<int:invoice_id>/send")
def send(invoice_id: int):
    """Email the invoice with its PDF and a new portal link."""
    invoice = _invoice_or_404(invoice_id)

    try:
        send_invoice(invoice, actor_id=g.clientflow_actor_id)
    except SendError as exc:
        flash(str(exc), "error")
        return _back(invoice)

    flash(
        _(
            "Invoice %(number)s sent to %(client)s.",
            number=invoice.number,
            client=invoice.client.name,
        ),
        "success",
    )
    return _back(invoice)


@bp.route("/<int:invoice_id>/link", methods=["GET", "POST"])
def link(invoice_id: int):
    """Show the invoice's links; a POST makes a new one and shows it once."""
    invoice = _invoice_or_404(invoice_id)
    new_url = None

    if request.method == "POST":
        try:
            token, _row = portal.create_link(invoice, actor_id=g.clientflow_actor_id)
        except portal.PortalError:
            db.session.rollback()
            flash(_("Only an issued invoice can have a portal link."), "error")
            return _back(invoice)
        db.session.commit()
        new_url = portal_url(current_workspace, token)

    return render_template(
        "clientflow/sending/link.html",
        invoice=invoice,
        new_url=new_url,
        invoice_page=INVOICE_PAGE in current_app.view_functions,
    )


@bp.post("/<int:invoice_id>/links/<int:link_id>/revoke")
def revoke(invoice_id: int, link_id: int):
    """End one portal link of the invoice."""
    invoice = _invoice_or_404(invoice_id)
    row = portal.link_of_invoice(invoice, link_id)
    if row is None:
        abort(404)

    if portal.revoke(row, actor_id=g.clientflow_actor_id):
        db.session.commit()
        flash(_("The portal link was revoked; it no longer opens."), "success")
    return _back(invoice)


@bp.get("/<int:invoice_id>/pdf")
def pdf(invoice_id: int):
    """The invoice as a PDF download, in the owner's language."""
    invoice = _invoice_or_404(invoice_id)

    content = render_invoice_pdf(invoice)
    return send_file(
        io.BytesIO(content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=filename_of(invoice),
    )
