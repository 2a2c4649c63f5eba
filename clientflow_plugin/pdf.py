"""An invoice as an A4 PDF, printed by WeasyPrint from an HTML template.

Names may come in any script, so the stylesheet lists a Noto face per script
family (Latin, Greek and Cyrillic share Noto Sans; Arabic, Hebrew, Indic,
Thai and CJK have their own) and WeasyPrint embeds the glyphs it uses.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib.resources import as_file, files
from typing import Any

from flask import render_template
from flask_babel import force_locale, format_decimal
from flask_babel import lazy_gettext as _l
from weasyprint import CSS, HTML

from host_stub.sdk import Workspace, db

from .clock import today_in
from .invoices import balance_minor, status_of
from .models import Invoice, Settings

logger = logging.getLogger(__name__)

TEMPLATE = "clientflow/sending/invoice_pdf.html"
STYLESHEET = "invoice_pdf.css"

#: Label and badge colour of each derived status (DESIGN.md §3, Status).
STATUS_STYLES = {
    "paid": (_l("Paid"), "green"),
    "pending": (_l("Pending"), "yellow"),
    "overdue": (_l("Overdue"), "red"),
    "draft": (_l("Draft"), "grey"),
    "void": (_l("Void"), "grey"),
}

LINE_KINDS = {
    "hours": _l("Hours"),
    "product": _l("Product"),
    "service": _l("Service"),
}


@dataclass(frozen=True)
class InvoiceDocument:
    """What a printed or portal view of an invoice shows, gathered once."""

    invoice: Invoice
    workspace: Workspace
    issuer_details: str
    status: str
    paid_minor: int
    balance_minor: int
    lines_net_minor: int
    today: date

    @property
    def status_label(self) -> str:
        return str(STATUS_STYLES.get(self.status, (self.status, ""))[0])

    @property
    def status_colour(self) -> str:
        return STATUS_STYLES.get(self.status, ("", "grey"))[1]


def document_of(invoice: Invoice, today: date | None = None) -> InvoiceDocument:
    """Gather the invoice, its agency and its derived figures for printing."""
    workspace = db.session.get(Workspace, invoice.workspace_id)
    settings = db.session.get(Settings, invoice.workspace_id)
    today = today or today_in(workspace)
    balance = balance_minor(invoice)
    return InvoiceDocument(
        invoice=invoice,
        workspace=workspace,
        issuer_details=(settings.issuer_details or "") if settings else "",
        status=str(status_of(invoice, today)),
        paid_minor=invoice.total_minor - balance,
        balance_minor=balance,
        lines_net_minor=sum(line.net_minor for line in invoice.lines),
        today=today,
    )


def quantity(value: Decimal) -> str:
    """A quantity as typed, without trailing zeros ("1.5", not "1.5000")."""
    return format_decimal(Decimal(value).normalize(), format="#,##0.####")


def kind_label(kind: str) -> str:
    return str(LINE_KINDS.get(kind, kind))


def document_context(invoice: Invoice) -> dict[str, Any]:
    """Template variables of a printed or portal view of ``invoice``."""
    return {"doc": document_of(invoice), "quantity": quantity, "kind_label": kind_label}


def filename_of(invoice: Invoice) -> str:
    """A safe download name such as ``invoice-2026-0042.pdf``."""
    label = invoice.number or f"draft-{invoice.id}"
    return "invoice-" + re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-") + ".pdf"


def render_invoice_pdf(invoice: Invoice, *, locale: str | None = None) -> bytes:
    """The invoice as PDF bytes, in ``locale`` (default: the current one).

    Needs an application context; template text and numbers follow the
    locale, so a client may receive a PDF in a language other than the
    owner's.
    """
    if locale:
        with force_locale(locale):
            html = render_template(TEMPLATE, **document_context(invoice))
    else:
        html = render_template(TEMPLATE, **document_context(invoice))

    stylesheet = files("clientflow_plugin") / "static" / STYLESHEET
    with as_file(stylesheet) as path:
        pdf = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf(
            stylesheets=[CSS(filename=str(path))]
        )
    logger.info("invoice %s printed to PDF", invoice.id)
    return pdf


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict:
    # The template needs no outside resource; refusing every fetch keeps text
    # that reaches the HTML from making the server request any URL.
    raise ValueError(f"the invoice PDF loads no external resources ({url[:40]})")
