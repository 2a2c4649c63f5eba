"""ClientFlow's billing pages: the invoices list, the creation flow, one invoice.

The creation flow is the product page's five steps, each a plain page that
works without JavaScript: choose the client, add lines, apply taxes, review
every rounding step, issue. A draft is saved at every step. The views read
the request, call :mod:`clientflow_plugin.invoices` and render; the rules
live in the domain.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from datetime import date
from decimal import Decimal

from babel.numbers import format_currency
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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal_column, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from clientflow_plugin import audit, clock, reminders, taxes
from clientflow_plugin import invoices as domain
from clientflow_plugin.formatting import reader_locale
from clientflow_plugin.forms.billing import (
    LINE_KINDS,
    PAYMENT_METHOD_LABELS,
    ActionForm,
    ClientChoiceForm,
    DetailsForm,
    LineEditForm,
    LineForm,
    NumberingForm,
    PaymentForm,
    TaxRateForm,
    VoidForm,
    amount_for_input,
    number_for_input,
)
from clientflow_plugin.invoices import BillingError, LineData
from clientflow_plugin.models import (
    Client,
    ClientRevenue,
    Invoice,
    InvoiceLine,
    InvoiceState,
    NumberSequence,
    RevenueDay,
    TaxRate,
)
from clientflow_plugin.money import exponent
from clientflow_plugin.setup import workspace_settings
from host_stub.sdk import User, current_workspace, db

logger = logging.getLogger(__name__)

bp = Blueprint("billing", __name__, url_prefix="/billing")

PAGE_SIZE = 25

#: Ids beyond a 32-bit integer exist in no table; PostgreSQL would refuse them.
MAX_ID = 2**31 - 1

#: The filters of the invoices page, in the order of its tabs.
FILTERS = ("all", *domain.STATUSES)

#: The steps of the creation flow: endpoint of each draft step, or None.
STEPS = (
    ("client", "draft_client"),
    ("lines", "draft_lines"),
    ("taxes", "draft_taxes"),
    ("review", "draft_review"),
    ("issue", None),
)

#: Labels of the audit events an invoice page lists.
EVENT_LABELS = {
    "invoice_issued": _l("Issued"),
    "invoice_voided": _l("Voided"),
    "invoice_sent": _l("Sent"),
    "portal_link_created": _l("Portal link created"),
    "portal_link_revoked": _l("Portal link revoked"),
    "payment_recorded": _l("Payment recorded"),
    "reminder_sent": _l("Reminder sent"),
    "invoice_imported": _l("Imported"),
}


@bp.context_processor
def _billing_helpers() -> dict:
    return {
        "billing_exact": exact_money,
        "billing_number": lambda value: number_for_input(value, reader_locale()),
        "billing_kind_label": lambda kind: dict(LINE_KINDS).get(kind, kind),
        "billing_method_label": lambda method: PAYMENT_METHOD_LABELS.get(
            method, method
        ),
        "billing_event_label": lambda kind: EVENT_LABELS.get(kind, kind),
        "billing_event_detail": _event_detail,
        "billing_amount_example": lambda currency: amount_for_input(
            123450 * 10 ** exponent(currency) // 100, currency, reader_locale()
        ),
    }


def _event_detail(event) -> str:
    if event.kind == "reminder_sent":
        return reminders.describe_detail(event.detail)
    return event.detail


def exact_money(minor_exact: Decimal, currency: str) -> str:
    """An unrounded amount in minor units, with every decimal it has."""
    value = minor_exact.scaleb(-exponent(currency)).normalize()
    return format_currency(
        value,
        currency,
        locale=reader_locale(),
        currency_digits=True,
        decimal_quantization=False,
    )


# --- the invoices page --------------------------------------------------------


@bp.route("/")
def index():
    """The billing area opens on the invoices."""
    return redirect(url_for(".invoices"))


@bp.route("/invoices", endpoint="invoices")
def list_invoices():
    """Invoices grouped by status, with each balance and each group's totals."""
    workspace = _workspace()
    today = clock.today_in(workspace)
    status = request.args.get("status", "all")
    if status not in FILTERS:
        status = "all"
    client = None
    if request.args.get("client_id"):
        client = _client_or_404(request.args.get("client_id", type=int))
    requested_page = max(request.args.get("page", 1, type=int) or 1, 1)

    # One query for every group's count and sums, one for the page: neither
    # reads more than the open invoices, the drafts and the voids.
    client_id = client.id if client is not None else None
    groups, undated = _group_totals(workspace.id, client_id, today)
    shown = groups[status] if status != "all" else _all_groups(groups)
    pages = max(math.ceil(shown["count"] / PAGE_SIZE), 1)
    page = min(requested_page, pages)
    listed = _page_rows(workspace.id, client_id, status, today, undated, page)

    return render_template(
        "clientflow/billing/invoices.html",
        rows=listed,
        groups=groups,
        shown=shown,
        status=status,
        client=client,
        page=page,
        pages=pages,
        today=today,
        filters=FILTERS,
        counts={
            "all": sum(group["count"] for group in groups.values()),
            **{key: group["count"] for key, group in groups.items()},
        },
    )


def _group_totals(
    workspace_id: int, client_id: int | None, today: date
) -> tuple[dict[str, dict], dict[str, int]]:
    """Count, invoiced and outstanding per status, per currency within it; and
    how many drafts and voids have no issue date.

    Nothing here grows with the paid history: the issued invoices come from
    the revenue totals the database keeps, the open ones (pending, overdue)
    from their partial index, and paid is issued less open. Drafts and voids
    are counted by state.
    """
    zero = literal_column("0")
    kept = RevenueDay if client_id is None else ClientRevenue
    issued = (
        select(
            literal_column("'issued'"),
            kept.currency,
            func.sum(kept.issued_count),
            func.sum(kept.invoiced_minor),
            zero,
            zero,
        )
        .where(kept.workspace_id == workspace_id)
        .group_by(kept.currency)
    )
    if client_id is not None:
        issued = issued.where(ClientRevenue.client_id == client_id)

    scope = [Invoice.workspace_id == workspace_id]
    if client_id is not None:
        scope.append(Invoice.client_id == client_id)
    # One object in the select and the grouping: PostgreSQL groups by it only
    # when both carry the same parameter.
    due = case(
        (Invoice.due_date < today, literal_column("'overdue'")),
        else_=literal_column("'pending'"),
    )
    open_ = (
        select(
            due,
            Invoice.currency,
            func.count(),
            func.sum(Invoice.total_minor),
            func.sum(Invoice.total_minor - Invoice.paid_minor),
            zero,
        )
        .where(*scope, domain.open_where())
        .group_by(due, Invoice.currency)
    )
    drafts_and_voids = (
        select(
            Invoice.state,
            Invoice.currency,
            func.count(),
            func.sum(Invoice.total_minor),
            zero,
            func.count() - func.count(Invoice.issue_date),
        )
        .where(*scope, domain.unissued_where())
        .group_by(Invoice.state, Invoice.currency)
    )
    result = db.session.execute(union_all(issued, open_, drafts_and_voids)).all()

    groups = {s: {"count": 0, "sums": {}} for s in domain.STATUSES}
    undated = {InvoiceState.DRAFT.value: 0, InvoiceState.VOID.value: 0}
    issued_sums: dict[str, tuple[int, int]] = {}
    open_sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, currency, count, total, balance, no_date in sorted(
        result, key=lambda row: row[1]
    ):
        if kind == "issued":
            issued_sums[currency] = (int(count or 0), int(total or 0))
            continue
        groups[kind]["count"] += count
        groups[kind]["sums"][currency] = {"total": int(total), "balance": int(balance)}
        if kind in undated:
            undated[kind] += no_date
        else:
            open_sums[currency][0] += count
            open_sums[currency][1] += int(total)
    for currency, (count, total) in issued_sums.items():
        paid_count = count - open_sums[currency][0]
        if paid_count:
            groups["paid"]["count"] += paid_count
            groups["paid"]["sums"][currency] = {
                "total": total - open_sums[currency][1],
                "balance": 0,
            }
    return groups, undated


def _page_rows(
    workspace_id: int,
    client_id: int | None,
    status: str,
    today: date,
    undated: dict[str, int],
    page: int,
) -> list:
    """The rows of one page of the list, in its order.

    Overdue invoices come by due date, the oldest first; the others by issue
    date, the newest first, drafts without a date before them all, then by
    id. No index gives SQLite "dates descending with nulls first", so the
    undated rows (few: drafts, and voids of imports) are read on their own,
    and the dated ones from the index with the offset moved past them.
    """
    scope = [Invoice.workspace_id == workspace_id]
    if client_id is not None:
        scope.append(Invoice.client_id == client_id)
    if status != "all":
        scope.append(domain.status_where(status, today))
    columns = (
        Invoice.id,
        Invoice.number,
        Invoice.state,
        Invoice.currency,
        Invoice.issue_date,
        Invoice.due_date,
        Invoice.total_minor,
        Invoice.client_id,
        domain.status_expr(today).label("status"),
        domain.balance_expr().label("balance_minor"),
    )
    offset = (page - 1) * PAGE_SIZE

    def part(order, limit: int, skip: int, *conditions):
        return (
            select(*columns)
            .where(*scope, *conditions)
            .order_by(*order)
            .limit(limit)
            .offset(skip)
        )

    if status == "overdue":
        parts = [part((Invoice.due_date, Invoice.id), PAGE_SIZE, offset)]
    else:
        # Issued invoices always carry an issue date (the revenue totals
        # count them on it), so only drafts and voids can lack one.
        ahead = sum(undated.values()) if status == "all" else undated.get(status, 0)
        first = min(max(ahead - offset, 0), PAGE_SIZE)
        parts = []
        if first:
            parts.append(
                part((Invoice.id.desc(),), first, offset, Invoice.issue_date.is_(None))
            )
        if first < PAGE_SIZE:
            parts.append(
                part(
                    (Invoice.issue_date.desc(), Invoice.id.desc()),
                    PAGE_SIZE - first,
                    max(offset - ahead, 0),
                    Invoice.issue_date.is_not(None),
                )
            )
    if len(parts) == 1:
        listed = parts[0].subquery("clientflow_listed")
    else:
        # SQLite takes ORDER BY and LIMIT in a compound's parts only inside
        # subqueries.
        listed = union_all(*(select(p.subquery()) for p in parts)).subquery(
            "clientflow_listed"
        )

    if status == "overdue":
        order = (listed.c.due_date.asc(), listed.c.id.asc())
    else:
        order = (listed.c.issue_date.desc().nulls_first(), listed.c.id.desc())
    query = (
        select(listed, Client.name.label("client_name"))
        .join(Client, Client.id == listed.c.client_id)
        .order_by(*order)
    )
    return db.session.execute(query).all()


def _all_groups(groups: dict[str, dict]) -> dict:
    sums: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "balance": 0})
    for status, group in groups.items():
        for currency, amounts in group["sums"].items():
            # Void invoices and drafts are not money owed or invoiced.
            if status in ("void", "draft"):
                continue
            sums[currency]["total"] += amounts["total"]
            sums[currency]["balance"] += amounts["balance"]
    return {
        "count": sum(g["count"] for g in groups.values()),
        "issued": sum(groups[s]["count"] for s in ("paid", "pending", "overdue")),
        "sums": dict(sums),
    }


# --- step 1: the client -------------------------------------------------------


@bp.route("/invoices/new", methods=["GET", "POST"])
def new_invoice():
    """Step 1 of a new invoice; ``?client_id=`` preselects the client."""
    workspace = _workspace()
    form = ClientChoiceForm()
    wanted = request.values.get("client_id", type=int)
    if request.method == "GET" and request.args.get("client_id"):
        preselected = _client_or_404(wanted)
        form.client_id.data = preselected.id
    form.client_id.choices = _client_choices(workspace.id, wanted)

    if form.validate_on_submit():
        client = _client_or_404(form.client_id.data)
        invoice = domain.create_draft(workspace, client, actor_id=_actor_id())
        db.session.commit()
        return redirect(url_for(".draft_lines", invoice_id=invoice.id), code=303)

    return _render_step(
        "clientflow/billing/new.html",
        None,
        "client",
        form=form,
        has_clients=bool(form.client_id.choices),
        clients_url=_endpoint_url("clientflow.clients.index"),
    )


@bp.route("/invoices/<int:invoice_id>/client", methods=["GET", "POST"])
def draft_client(invoice_id: int):
    """Step 1 again: change the client of a draft."""
    invoice = _invoice_or_404(invoice_id)
    if invoice.state != InvoiceState.DRAFT:
        return _not_editable(invoice)
    form = ClientChoiceForm()
    if request.method == "GET":
        form.client_id.data = invoice.client_id
    form.client_id.choices = _client_choices(
        invoice.workspace_id, request.values.get("client_id", type=int)
    )

    if form.validate_on_submit():
        client = _client_or_404(form.client_id.data)
        before = taxes.proposed_rates(invoice.workspace_id, invoice.client.region)
        try:
            domain.update_draft(invoice, client=client)
        except BillingError as exc:
            _refused(exc, form)
        else:
            db.session.commit()
            after = taxes.proposed_rates(invoice.workspace_id, client.region)
            if invoice.lines and after != before:
                # The lines keep their taxes until the owner says otherwise.
                flash(
                    _(
                        "The lines kept their taxes; the taxes step proposes "
                        "the rates of %(region)s.",
                        region=client.region or "—",
                    ),
                    "info",
                )
            return redirect(url_for(".draft_lines", invoice_id=invoice.id), code=303)

    return _render_step(
        "clientflow/billing/new.html",
        invoice,
        "client",
        form=form,
        has_clients=True,
        clients_url=None,
    )


# --- step 2: the lines --------------------------------------------------------


@bp.route("/invoices/<int:invoice_id>/lines", methods=["GET", "POST"])
def draft_lines(invoice_id: int):
    """Step 2: the lines of a draft, and a form that adds one."""
    invoice = _invoice_or_404(invoice_id)
    if invoice.state != InvoiceState.DRAFT:
        return _not_editable(invoice)
    form = LineForm(currency=invoice.currency, locale=reader_locale())
    proposed = taxes.proposed_rates(invoice.workspace_id, invoice.client.region)

    if form.validate_on_submit():
        data = _line_data(form, [rate.id for rate in proposed])
        try:
            domain.add_line(invoice, data)
        except BillingError as exc:
            _refused(exc, form)
        else:
            db.session.commit()
            flash(_("Line added."), "success")
            return redirect(
                url_for(".draft_lines", invoice_id=invoice.id) + "#add-line", code=303
            )

    return _render_step(
        "clientflow/billing/lines.html",
        invoice,
        "lines",
        form=form,
        proposed=proposed,
        action_form=ActionForm(),
    )


@bp.route("/invoices/<int:invoice_id>/lines/<int:line_id>", methods=["GET", "POST"])
def edit_line(invoice_id: int, line_id: int):
    """One line of a draft with all its values, its tax rates included."""
    invoice = _invoice_or_404(invoice_id)
    line = _line_or_404(invoice, line_id)
    if invoice.state != InvoiceState.DRAFT:
        return _not_editable(invoice)
    in_use = [rate.id for rate in line.tax_rates]
    form = LineEditForm(
        currency=invoice.currency,
        locale=reader_locale(),
        data={
            "kind": line.kind,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price_minor,
            "discount_percent": line.discount_percent,
            "tax_rate_ids": in_use,
        },
    )
    form.tax_rate_ids.choices = _rate_choices(invoice.workspace_id, in_use)

    if form.validate_on_submit():
        data = _line_data(form, form.tax_rate_ids.data or [])
        try:
            domain.update_line(invoice, line.id, data)
        except BillingError as exc:
            _refused(exc, form)
        else:
            db.session.commit()
            flash(_("Line saved."), "success")
            return redirect(url_for(".draft_lines", invoice_id=invoice.id), code=303)

    return _render_step(
        "clientflow/billing/line_edit.html", invoice, "lines", form=form, line=line
    )


@bp.post("/invoices/<int:invoice_id>/lines/<int:line_id>/remove")
def remove_line(invoice_id: int, line_id: int):
    """Take one line off a draft."""
    invoice = _invoice_or_404(invoice_id)
    line = _line_or_404(invoice, line_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        domain.remove_line(invoice, line.id)
    except BillingError as exc:
        return _refused_action(exc, invoice, ".draft_lines")
    db.session.commit()
    flash(_("Line removed."), "success")
    return redirect(url_for(".draft_lines", invoice_id=invoice.id), code=303)


# --- step 3: the taxes --------------------------------------------------------


@bp.route("/invoices/<int:invoice_id>/taxes", methods=["GET", "POST"])
def draft_taxes(invoice_id: int):
    """Step 3: the tax rates of each line, the region's proposal first."""
    invoice = _invoice_or_404(invoice_id)
    if invoice.state != InvoiceState.DRAFT:
        return _not_editable(invoice)
    proposed = taxes.proposed_rates(invoice.workspace_id, invoice.client.region)
    in_use = sorted({rate.id for line in invoice.lines for rate in line.tax_rates})
    offered = _rates_offered(invoice.workspace_id, in_use)
    # The region's proposal first, so the usual choice is the first column.
    rates = [r for r in offered if r in proposed] + [
        r for r in offered if r not in proposed
    ]
    form = ActionForm()
    errors: list[str] = []

    if form.validate_on_submit():
        if "apply_proposed" in request.form:
            chosen = {line.id: [rate.id for rate in proposed] for line in invoice.lines}
        else:
            chosen = _posted_taxes(invoice, errors)
        if not errors:
            try:
                domain.set_line_taxes(invoice, chosen)
            except BillingError as exc:
                db.session.rollback()
                errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("Taxes saved."), "success")
                target = ".draft_review" if "next" in request.form else ".draft_taxes"
                return redirect(url_for(target, invoice_id=invoice.id), code=303)

    return _render_step(
        "clientflow/billing/taxes.html",
        invoice,
        "taxes",
        form=form,
        rates=rates,
        proposed=proposed,
        errors=errors,
        breakdown=domain.breakdown(invoice) if not errors else None,
    )


def _posted_taxes(invoice: Invoice, errors: list[str]) -> dict[int, list[int]]:
    chosen: dict[int, list[int]] = {}
    for line in invoice.lines:
        values = request.form.getlist(f"line-{line.id}")
        try:
            chosen[line.id] = [int(value) for value in values]
        except ValueError:
            errors.append(_("Unknown tax rate."))
            break
    return chosen


# --- step 4: the review -------------------------------------------------------


@bp.route("/invoices/<int:invoice_id>/review", methods=["GET", "POST"])
def draft_review(invoice_id: int):
    """Step 4: dates, discount and terms, and every rounding step of the totals."""
    invoice = _invoice_or_404(invoice_id)
    if invoice.state != InvoiceState.DRAFT:
        return _not_editable(invoice)
    form = DetailsForm(
        currency=invoice.currency,
        locale=reader_locale(),
        data={
            "issue_date": invoice.issue_date,
            "due_date": invoice.due_date,
            "discount": invoice.discount_minor or None,
            "terms": invoice.terms,
        },
    )

    if form.validate_on_submit():
        try:
            domain.update_draft(
                invoice,
                issue_date=form.issue_date.data,
                due_date=form.due_date.data,
                discount_minor=form.discount.data,
                terms=form.terms.data or "",
            )
        except BillingError as exc:
            _refused(exc, form)
        else:
            db.session.commit()
            flash(_("Draft saved."), "success")
            return redirect(url_for(".draft_review", invoice_id=invoice.id), code=303)

    settings = workspace_settings(invoice.workspace_id)
    return _render_step(
        "clientflow/billing/review.html",
        invoice,
        "review",
        form=form,
        breakdown=domain.breakdown(invoice),
        settings=settings,
        action_form=ActionForm(),
        next_number=_next_number_preview(invoice.workspace_id, settings),
    )


# --- step 5: issue ------------------------------------------------------------


@bp.post("/invoices/<int:invoice_id>/issue")
def issue_invoice(invoice_id: int):
    """Step 5: give the draft its number; from now on it cannot change."""
    invoice = _invoice_or_404(invoice_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        domain.issue(invoice, actor_id=_actor_id())
        db.session.commit()
    except BillingError as exc:
        return _refused_action(exc, invoice, ".draft_review")
    except IntegrityError:
        # Only a numbering prefix that produces an old number can get here.
        db.session.rollback()
        logger.exception("invoice %s could not be numbered", invoice_id)
        flash(
            _("The next number is already used; check the numbering settings."), "error"
        )
        return redirect(url_for(".draft_review", invoice_id=invoice_id), code=303)
    flash(_("Invoice %(number)s issued.", number=invoice.number), "success")
    return redirect(url_for(".invoice", invoice_id=invoice.id), code=303)


@bp.post("/invoices/<int:invoice_id>/delete")
def delete_draft(invoice_id: int):
    """Delete a draft; it never had a number, so no gap is left."""
    invoice = _invoice_or_404(invoice_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        domain.delete_draft(invoice, actor_id=_actor_id())
    except BillingError as exc:
        return _refused_action(exc, invoice, ".invoice")
    db.session.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for(".invoices"), code=303)


# --- one invoice --------------------------------------------------------------


@bp.route("/invoices/<int:invoice_id>")
def invoice(invoice_id: int):
    """An issued or void invoice: lines, taxes, payments, status, audit trail."""
    invoice = _invoice_or_404(invoice_id, eager=True)
    if invoice.state == InvoiceState.DRAFT:
        return redirect(url_for(".draft_review", invoice_id=invoice.id))
    return _render_invoice(invoice)


@bp.post("/invoices/<int:invoice_id>/payments")
def record_payment(invoice_id: int):
    """Record a payment received, partial or whole."""
    invoice = _invoice_or_404(invoice_id)
    if invoice.state == InvoiceState.DRAFT:
        flash(_("Issue the invoice before recording payments."), "error")
        return redirect(url_for(".draft_review", invoice_id=invoice.id), code=303)
    form = PaymentForm(currency=invoice.currency, locale=reader_locale())
    if form.validate_on_submit():
        try:
            domain.record_payment(
                invoice,
                amount_minor=form.amount.data,
                paid_on=form.paid_on.data,
                method=form.method.data,
                reference=form.reference.data,
                actor_id=_actor_id(),
            )
        except BillingError as exc:
            _refused(exc, form)
        else:
            db.session.commit()
            flash(_("Payment recorded."), "success")
            return redirect(
                url_for(".invoice", invoice_id=invoice.id) + "#payments", code=303
            )
    return _render_invoice(invoice, payment_form=form, status_code=400)


@bp.post("/invoices/<int:invoice_id>/void")
def void_invoice(invoice_id: int):
    """Void an issued invoice; the reason goes to the audit trail."""
    invoice = _invoice_or_404(invoice_id)
    if invoice.state == InvoiceState.DRAFT:
        flash(_("A draft has no number to void; delete the draft instead."), "error")
        return redirect(url_for(".draft_review", invoice_id=invoice.id), code=303)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            domain.void(invoice, reason=form.reason.data, actor_id=_actor_id())
        except BillingError as exc:
            _refused(exc, form)
        else:
            db.session.commit()
            flash(_("Invoice %(number)s voided.", number=invoice.number), "success")
            return redirect(url_for(".invoice", invoice_id=invoice.id), code=303)
    return _render_invoice(invoice, void_form=form, status_code=400)


def _render_invoice(
    invoice: Invoice,
    *,
    payment_form: PaymentForm | None = None,
    void_form: VoidForm | None = None,
    status_code: int = 200,
):
    workspace = _workspace()
    today = clock.today_in(workspace)
    balance = domain.balance_minor(invoice)
    locale = reader_locale()
    if payment_form is None:
        payment_form = PaymentForm(
            formdata=None,
            currency=invoice.currency,
            locale=locale,
            data={
                "amount": balance or None,
                "paid_on": today,
                "method": "transfer",
            },
        )
    events = audit.events_of_invoice(invoice.id)
    user_ids = {event.user_id for event in events if event.user_id}
    people = {}
    if user_ids:
        people = {
            user.id: user.display_name
            for user in db.session.scalars(select(User).where(User.id.in_(user_ids)))
        }
    return (
        render_template(
            "clientflow/billing/invoice.html",
            invoice=invoice,
            status=domain.status_of(invoice, today),
            balance=balance,
            paid=domain.paid_minor(invoice),
            breakdown=domain.breakdown(invoice),
            payment_form=payment_form,
            void_form=void_form or VoidForm(formdata=None),
            action_form=ActionForm(),
            events=events,
            people=people,
            today=today,
        ),
        status_code,
    )


# --- settings -----------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """Numbering, payment terms and the workspace's tax rates."""
    workspace = _workspace()
    current = workspace_settings(workspace.id)
    form = NumberingForm(obj=current)
    if form.validate_on_submit():
        current.invoice_prefix = form.invoice_prefix.data
        current.number_digits = form.number_digits.data
        current.payment_terms_days = form.payment_terms_days.data
        db.session.commit()
        logger.info("billing settings of %s changed by %s", workspace.slug, _actor_id())
        flash(_("Billing settings saved."), "success")
        return redirect(url_for(".settings"), code=303)
    if request.method == "POST":
        db.session.rollback()
    return _render_settings(numbering_form=form)


@bp.post("/settings/tax-rates")
def create_tax_rate():
    """Add a tax rate to the workspace."""
    workspace = _workspace()
    form = TaxRateForm()
    if form.validate_on_submit():
        try:
            taxes.create_rate(workspace.id, **_rate_values(form))
        except BillingError as exc:
            _refused(exc, form)
        else:
            db.session.commit()
            flash(_("Tax rate added."), "success")
            return redirect(url_for(".settings") + "#tax-rates", code=303)
    return _render_settings(rate_form=form)


@bp.route("/settings/tax-rates/<int:rate_id>", methods=["GET", "POST"])
def edit_tax_rate(rate_id: int):
    """Rename a rate, move it to a region, or change its percentage."""
    workspace = _workspace()
    rate = _rate_or_404(rate_id)
    form = TaxRateForm(
        data={
            "name": rate.name,
            "rate": number_for_input(rate.rate, reader_locale()),
            "region": rate.region,
            "default_for_region": rate.default_for_region,
        }
    )
    if form.validate_on_submit():
        try:
            taxes.update_rate(rate, **_rate_values(form))
        except BillingError as exc:
            _refused(exc, form)
        else:
            db.session.commit()
            flash(_("Tax rate saved."), "success")
            return redirect(url_for(".settings") + "#tax-rates", code=303)
    return (
        render_template(
            "clientflow/billing/tax_rate.html",
            form=form,
            rate=rate,
            locked=taxes.used_on_issued(rate.id),
            workspace=workspace,
        ),
        400 if request.method == "POST" else 200,
    )


@bp.post("/settings/tax-rates/<int:rate_id>/archive")
def archive_tax_rate(rate_id: int):
    """Archive a rate or bring it back; rates are never deleted."""
    rate = _rate_or_404(rate_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    archived = request.form.get("archived", "1") == "1"
    taxes.set_archived(rate, archived)
    db.session.commit()
    if archived:
        flash(_("Tax rate %(name)s archived.", name=rate.name), "success")
    else:
        flash(_("Tax rate %(name)s restored.", name=rate.name), "success")
    return redirect(url_for(".settings") + "#tax-rates", code=303)


def _render_settings(
    *,
    numbering_form: NumberingForm | None = None,
    rate_form: TaxRateForm | None = None,
):
    workspace = _workspace()
    current = workspace_settings(workspace.id)
    return (
        render_template(
            "clientflow/billing/settings.html",
            numbering_form=numbering_form or NumberingForm(formdata=None, obj=current),
            rate_form=rate_form or TaxRateForm(formdata=None),
            rates=taxes.list_rates(workspace.id, include_archived=True),
            action_form=ActionForm(),
            next_number=_next_number_preview(workspace.id, current),
        ),
        400 if request.method == "POST" else 200,
    )


def _rate_values(form: TaxRateForm) -> dict:
    return {
        "name": form.name.data,
        "rate": taxes.parse_percent(form.rate.data),
        "region": form.region.data or "",
        "default_for_region": bool(form.default_for_region.data),
    }


# --- helpers ------------------------------------------------------------------


def _workspace():
    return current_workspace._get_current_object()


def _actor_id() -> int | None:
    return g.get("clientflow_actor_id")


def _invoice_or_404(invoice_id: int, *, eager: bool = False) -> Invoice:
    """The invoice if it belongs to this workspace; another's answers 404."""
    _check_id(invoice_id)
    query = select(Invoice).where(
        Invoice.id == invoice_id, Invoice.workspace_id == _workspace().id
    )
    if eager:
        query = query.options(
            selectinload(Invoice.lines).selectinload(InvoiceLine.tax_rates),
            selectinload(Invoice.taxes),
            selectinload(Invoice.payments),
        )
    invoice = db.session.scalar(query)
    if invoice is None:
        abort(404)
    return invoice


def _check_id(value: int | None) -> None:
    if value is None or not 0 < value <= MAX_ID:
        abort(404)


def _line_or_404(invoice: Invoice, line_id: int) -> InvoiceLine:
    for line in invoice.lines:
        if line.id == line_id:
            return line
    abort(404)


def _client_or_404(client_id: int | None) -> Client:
    _check_id(client_id)
    client = db.session.get(Client, client_id)
    if client is None or client.workspace_id != _workspace().id:
        abort(404)
    return client


def _rate_or_404(rate_id: int) -> TaxRate:
    _check_id(rate_id)
    rate = taxes.get_rate(_workspace().id, rate_id)
    if rate is None:
        abort(404)
    return rate


def _client_choices(workspace_id: int, also: int | None) -> list[tuple[int, str]]:
    """Clients to bill: the active ones, and ``also`` when it is archived."""
    if also is None or not 0 < also <= MAX_ID:
        also = 0
    clients = db.session.scalars(
        select(Client)
        .where(
            Client.workspace_id == workspace_id,
            or_(Client.archived.is_(False), Client.id == also),
        )
        .order_by(func.lower(Client.name), Client.id)
    )
    return [(client.id, _client_label(client)) for client in clients]


def _client_label(client: Client) -> str:
    label = client.name
    if client.company and client.company != client.name:
        label = f"{client.name} · {client.company}"
    if client.region:
        label = f"{label} ({client.region})"
    return label


def _rates_offered(workspace_id: int, in_use: list[int]) -> list[TaxRate]:
    """The active rates, plus archived ones a draft still carries."""
    return list(
        db.session.scalars(
            select(TaxRate)
            .where(
                TaxRate.workspace_id == workspace_id,
                or_(TaxRate.archived.is_(False), TaxRate.id.in_(in_use or [0])),
            )
            .order_by(TaxRate.region, TaxRate.rate.desc(), TaxRate.name)
        )
    )


def _rate_choices(workspace_id: int, in_use: list[int]) -> list[tuple[int, str]]:
    from clientflow_plugin.formatting import percent

    return [
        (rate.id, f"{rate.name} ({percent(rate.rate)}{_region(rate)})")
        for rate in _rates_offered(workspace_id, in_use)
    ]


def _region(rate: TaxRate) -> str:
    return f", {rate.region}" if rate.region else ""


def _line_data(form: LineForm, tax_rate_ids: list[int]) -> LineData:
    return LineData(
        kind=form.kind.data,
        description=form.description.data,
        quantity=form.quantity.data,
        unit_price_minor=form.unit_price.data,
        discount_percent=form.discount_percent.data,
        tax_rate_ids=list(tax_rate_ids),
    )


def _refused(exc: BillingError, form) -> None:
    """Undo the request's changes and show the domain's message on the form."""
    db.session.rollback()
    name = {"taxes": "tax_rate_ids"}.get(exc.field or "", exc.field)
    if name and name in form._fields:
        field = form[name]
        field.errors = [*field.errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


def _refused_action(exc: BillingError, invoice: Invoice, endpoint: str):
    db.session.rollback()
    flash(str(exc), "error")
    if invoice.state != InvoiceState.DRAFT:
        endpoint = ".invoice"
    return redirect(url_for(endpoint, invoice_id=invoice.id), code=303)


def _not_editable(invoice: Invoice):
    """Send a request for a draft step of an issued invoice to the invoice."""
    if request.method == "POST":
        try:
            domain.require_draft(invoice)
        except BillingError as exc:
            flash(str(exc), "error")
    return redirect(url_for(".invoice", invoice_id=invoice.id), code=303)


def _render_step(template: str, invoice: Invoice | None, step: str, **context):
    failed = request.method == "POST"
    return (
        render_template(
            template,
            invoice=invoice,
            step=step,
            steps=STEPS,
            **context,
        ),
        400 if failed else 200,
    )


def _next_number_preview(workspace_id: int, settings) -> str:
    """The number the next issued invoice will get, for the owner to check."""
    year = clock.today_in(_workspace()).year
    prefix = settings.invoice_prefix.replace("{year}", f"{year:04d}")
    last = db.session.scalar(
        select(NumberSequence.last_number).where(
            NumberSequence.workspace_id == workspace_id,
            NumberSequence.prefix == prefix,
        )
    )
    return f"{prefix}{(last or 0) + 1:0{settings.number_digits}d}"


def _endpoint_url(endpoint: str) -> str | None:
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint)
