"""ClientFlow's JSON API: clients, projects, invoices and opportunities.

Every view reads the request, calls the domain and shapes the answer with a
schema; the guard in ``access.py`` has already checked the caller. Every
error, including the guard's, is JSON ``{"error", "message", "fields"}``.
"""

from __future__ import annotations

import json
import logging
import math
from decimal import Decimal
from functools import cache

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import contains_eager, joinedload
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from clientflow_plugin import clients, clock, invoices, pipeline
from clientflow_plugin.models import Client, Invoice, Opportunity
from clientflow_plugin.money import MoneyError, to_minor
from clientflow_plugin.schemas import clients as client_schemas
from clientflow_plugin.schemas import invoices as invoice_schemas
from clientflow_plugin.schemas import pipeline as pipeline_schemas
from clientflow_plugin.schemas.common import MAX_ID, PageQuery
from clientflow_plugin.schemas.openapi import (
    API_ENDPOINT_PREFIX,
    Operation,
    build_document,
    documented,
)
from host_stub.sdk import Workspace, current_workspace, db, exempt_csrf

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The guard checks CSRF itself, and only for session callers: a bearer token
# cannot ride along on a forged cross-site request.
exempt_csrf(bp)

#: The URL rule of the API's root; the OpenAPI paths are relative to it.
API_RULE_PREFIX = "/w/<workspace>/clientflow/api/v1"


ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


class ApiError(Exception):
    """An error answered as JSON with a 4xx status."""

    def __init__(
        self, status: int, message: str, fields: dict | None = None, error: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}
        self.error = error or ERROR_CODES.get(status, "error")


@bp.before_request
def _ids_within_range() -> None:
    """Ids beyond the database's integer columns cannot exist: 404, not a crash."""
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and value > MAX_ID:
            raise NotFound()


def error_response(
    status: int, error: str, message: str, fields: dict | None = None
) -> Response:
    """The JSON answer of every error: ``{"error", "message", "fields"}``."""
    response = jsonify({"error": error, "message": message, "fields": fields or {}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ClientFlow API"'
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return error_response(error.status, error.error, error.message, error.fields)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    code = ERROR_CODES.get(status, "error")
    message = error.description or ""
    if error.__class__.__name__ == "CSRFError":
        code, message = "csrf_failed", _("The CSRF token is missing or wrong.")
    elif status == 401:
        message = _("Send a valid API token: Authorization: Bearer <token>.")
    elif status == 403:
        message = _("Only the Agency Owner can use the ClientFlow API.")
    elif status == 404:
        message = _("Not found.")
    response = error_response(status, code, message)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


# Flask looks for a handler by status code before it looks by class, and the
# host has code handlers that render HTML: claim each code for the API.
for _code in ERROR_CODES:
    bp.register_error_handler(_code, _http_error)


@bp.errorhandler(Exception)
def _unexpected_error(error: Exception) -> Response:
    # A fault of ours: roll back whatever the view began, log the traceback
    # for the operator, and still answer in JSON.
    db.session.rollback()
    logger.error(
        "API request %s %s failed", request.method, request.path, exc_info=error
    )
    return error_response(500, "server_error", _("Something went wrong on our side."))


def read_json(schema: Schema, *, partial: bool = False) -> dict:
    """The request's JSON object, validated by ``schema``; 4xx JSON otherwise."""
    if not request.is_json:
        raise ApiError(
            415, _("Send the body as JSON (Content-Type: application/json).")
        )
    try:
        data = json.loads(
            request.get_data(cache=True),
            parse_float=Decimal,
            parse_constant=_refuse_constant,
        )
    except ValueError as exc:
        raise ApiError(400, _("The body is not valid JSON.")) from exc
    if not isinstance(data, dict):
        raise ApiError(400, _("The body must be a JSON object."))
    return load(schema, data, partial=partial)


def read_query(schema: Schema) -> dict:
    """The query string, validated by ``schema``; unknown parameters are ignored."""
    return load(schema, request.args.to_dict(), unknown=EXCLUDE)


def load(schema: Schema, data: dict, **kwargs) -> dict:
    """``data`` validated by ``schema``; a 422 naming each field at fault."""
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        raise ApiError(
            422, _("Some fields are not valid."), fields=_messages(exc.messages)
        ) from exc


def _messages(messages) -> dict:
    """Marshmallow's messages with every key a string, as JSON requires."""
    if isinstance(messages, dict):
        return {str(k): _messages(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return messages
    return {"_schema": [str(messages)]}


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


def actor_id() -> int | None:
    """The user on whose behalf the request acts (a token acts for its creator)."""
    return g.get("clientflow_actor_id")


def workspace() -> Workspace:
    """The workspace named by the URL (the guard has checked it exists)."""
    return current_workspace._get_current_object()


@bp.get("/")
def index() -> Response:
    """Where the API's description lives."""
    return jsonify(
        {
            "name": "ClientFlow API",
            "version": "v1",
            "openapi": url_for(".openapi", _external=False),
        }
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document, with this workspace's API as its server."""
    server = url_for(".index").rstrip("/")
    return jsonify(build_document(current_app, API_RULE_PREFIX, server))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    """Any other URL below the API: a JSON 404, or 405 for a known path."""
    allowed = _allowed_methods(current_app.url_map, request.path)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound()


def _allowed_methods(url_map: Map, path: str) -> list[str]:
    try:
        _api_routes(url_map).bind("localhost").match(path, method="-")
    except MethodNotAllowed as exc:
        return sorted(set(exc.valid_methods or ()) - {"HEAD", "OPTIONS"})
    except HTTPException:
        return []
    return []


@cache
def _api_routes(url_map: Map) -> Map:
    """The API's own routes, without the catch-all, to tell 405 from 404."""
    return Map(
        [
            Rule(r.rule, endpoint=r.endpoint, methods=r.methods)
            for r in url_map.iter_rules()
            if r.rule.startswith(API_RULE_PREFIX)
            and r.endpoint != f"{API_ENDPOINT_PREFIX}unknown"
        ]
    )


# --- lists ----------------------------------------------------------------------


def paginate(statement: Select, query: dict) -> tuple[list, dict]:
    """One page of ``statement``'s rows and the envelope that describes it."""
    page, per_page = query["page"], query["per_page"]
    total = db.session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    rows = db.session.execute(
        statement.limit(per_page).offset((page - 1) * per_page)
    ).all()
    envelope = {
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, math.ceil(total / per_page)),
    }
    return rows, envelope


def refused(exc: Exception, status: int = 422, field: str | None = None) -> ApiError:
    """An ApiError for a refusal of the domain, after undoing its changes."""
    db.session.rollback()
    name = field or getattr(exc, "field", None) or "_schema"
    return ApiError(status, str(exc), fields={name: [str(exc)]})


# --- invoices -------------------------------------------------------------------

INVOICE_ERRORS = (409,)


def _invoice_or_404(invoice_id: int) -> Invoice:
    invoice = db.session.scalar(
        select(Invoice).where(
            Invoice.id == invoice_id, Invoice.workspace_id == workspace().id
        )
    )
    if invoice is None:
        raise NotFound()
    return invoice


def _invoice_answer(invoice: Invoice, status: int = 200) -> Response:
    data = invoice_schemas.invoice_detail(
        invoice,
        status=invoices.status_of(invoice, clock.today_in(workspace())),
        paid_minor=invoices.paid_minor(invoice),
        balance_minor=invoices.balance_minor(invoice),
    )
    response = jsonify(invoice_schemas.InvoiceOut().dump(data))
    response.status_code = status
    return response


def _billing_refusal(exc: invoices.BillingError) -> ApiError:
    """422 for a value at fault, 409 for an action the invoice's state forbids."""
    if isinstance(
        exc,
        invoices.ImmutableInvoiceError
        | invoices.InvoiceStateError
        | invoices.NumberingError,
    ):
        return refused(exc, 409)
    if exc.field is None and isinstance(exc, invoices.PaymentError):
        return refused(exc, 409)
    field = exc.field
    if field in LINE_FIELDS:
        db.session.rollback()
        return ApiError(422, str(exc), fields={"lines": {field: [str(exc)]}})
    return refused(exc, 422, API_FIELD_NAMES.get(field, field))


#: Fields of a line as the billing rules name them.
LINE_FIELDS = frozenset(
    {"kind", "description", "quantity", "unit_price", "discount_percent", "taxes"}
)
#: Billing rules' field names that the API calls differently.
API_FIELD_NAMES = {"client": "client_id", "hour_pack": "lines"}


def _minor(value: Decimal, field: str, currency: str) -> int:
    try:
        return to_minor(value, currency)
    except MoneyError as exc:
        raise ApiError(422, str(exc), fields={field: [str(exc)]}) from exc


@bp.get("/invoices")
@documented(
    Operation(
        summary="List invoices",
        tag="invoices",
        query=invoice_schemas.InvoiceListQuery,
        response=invoice_schemas.InvoicePageOut,
        description="Newest first; `status` is derived: draft, pending, overdue, "
        "paid or void.",
    )
)
def list_invoices() -> Response:
    """One page of the workspace's invoices, with derived statuses."""
    query = read_query(invoice_schemas.InvoiceListQuery())
    ws = workspace()
    today = clock.today_in(ws)
    status = invoices.status_expr(today)
    statement = (
        select(
            Invoice,
            status.label("status"),
            Invoice.paid_minor.label("paid_minor"),
            invoices.balance_expr().label("balance_minor"),
        )
        .join(Invoice.client)
        .options(contains_eager(Invoice.client))
        .where(Invoice.workspace_id == ws.id)
        .order_by(Invoice.id.desc())
    )
    if "status" in query:
        statement = statement.where(status == query["status"])
    if "client_id" in query:
        statement = statement.where(Invoice.client_id == query["client_id"])
    rows, envelope = paginate(statement, query)
    envelope["items"] = [
        invoice_schemas.invoice_summary(
            row.Invoice,
            status=row.status,
            paid_minor=row.paid_minor,
            balance_minor=row.balance_minor,
        )
        for row in rows
    ]
    return jsonify(invoice_schemas.InvoicePageOut().dump(envelope))


@bp.get("/invoices/<int:invoice_id>")
@documented(
    Operation(
        summary="Read an invoice with its lines, taxes, payments and balance",
        tag="invoices",
        response=invoice_schemas.InvoiceOut,
    )
)
def read_invoice(invoice_id: int) -> Response:
    """One invoice with its lines, taxes, payments and balance."""
    return _invoice_answer(_invoice_or_404(invoice_id))


@bp.post("/invoices")
@documented(
    Operation(
        summary="Create a draft invoice",
        tag="invoices",
        body=invoice_schemas.InvoiceCreateIn,
        response=invoice_schemas.InvoiceOut,
        status=201,
        errors=INVOICE_ERRORS,
    )
)
def create_invoice() -> Response:
    """A new draft from the body's client and lines."""
    data = read_json(invoice_schemas.InvoiceCreateIn())
    ws = workspace()
    client = clients.get_client(ws.id, data["client_id"])
    if client is None:
        raise ApiError(
            422,
            _("No such client in this workspace."),
            fields={"client_id": [_("No such client in this workspace.")]},
        )
    lines = [
        invoices.LineData(
            kind=line["kind"],
            description=line["description"],
            quantity=line["quantity"],
            unit_price_minor=_minor(line["unit_price"], "unit_price", ws.currency),
            discount_percent=line["discount_percent"],
            tax_rate_ids=line["tax_rate_ids"],
        )
        for line in data["lines"]
    ]
    try:
        invoice = invoices.create_draft(
            ws,
            client,
            lines=lines,
            discount_minor=_minor(data["discount"], "discount", ws.currency),
            terms=data["terms"],
            issue_date=data["issue_date"],
            due_date=data["due_date"],
            actor_id=actor_id(),
        )
    except invoices.BillingError as exc:
        raise _billing_refusal(exc) from exc
    db.session.commit()
    return _invoice_answer(invoice, 201)


@bp.post("/invoices/<int:invoice_id>/issue")
@documented(
    Operation(
        summary="Issue a draft: it gets the next number and can no longer change",
        tag="invoices",
        response=invoice_schemas.InvoiceOut,
        errors=(*INVOICE_ERRORS, 422),
    )
)
def issue_invoice(invoice_id: int) -> Response:
    """Issue a draft: its number comes from the workspace's sequence."""
    invoice = _invoice_or_404(invoice_id)
    try:
        invoices.issue(invoice, actor_id=actor_id())
    except invoices.BillingError as exc:
        raise _billing_refusal(exc) from exc
    db.session.commit()
    return _invoice_answer(invoice)


@bp.post("/invoices/<int:invoice_id>/payments")
@documented(
    Operation(
        summary="Record a payment, partial or whole, of an issued invoice",
        tag="invoices",
        body=invoice_schemas.PaymentIn,
        response=invoice_schemas.InvoiceOut,
        status=201,
        errors=INVOICE_ERRORS,
        description="A payment larger than the balance is refused with 422.",
    )
)
def record_payment(invoice_id: int) -> Response:
    """Record a payment of an issued invoice."""
    invoice = _invoice_or_404(invoice_id)
    data = read_json(invoice_schemas.PaymentIn())
    try:
        invoices.record_payment(
            invoice,
            amount_minor=_minor(data["amount"], "amount", invoice.currency),
            paid_on=data["paid_on"],
            method=data["method"],
            reference=data["reference"],
            actor_id=actor_id(),
        )
    except invoices.BillingError as exc:
        raise _billing_refusal(exc) from exc
    db.session.commit()
    return _invoice_answer(invoice, 201)


# --- clients and projects -----------------------------------------------------------


def _client_refusal(exc: clients.ValidationError) -> ApiError:
    db.session.rollback()
    messages = {field: [str(m) for m in found] for field, found in exc.errors.items()}
    return ApiError(422, _("Some fields are not valid."), fields=messages)


def _client_or_404(client_id: int) -> Client:
    client = clients.get_client(workspace().id, client_id)
    if client is None:
        raise NotFound()
    return client


def _answer(schema: Schema, data, status: int = 200) -> Response:
    response = jsonify(schema.dump(data))
    response.status_code = status
    return response


@bp.get("/clients")
@documented(
    Operation(
        summary="List clients",
        tag="clients",
        query=client_schemas.ClientListQuery,
        response=client_schemas.ClientPageOut,
        description="Not archived ones by default (`view=all` for every client); "
        "a page past the end answers the last page.",
    )
)
def list_clients() -> Response:
    """One page of the workspace's clients, as their cards show them."""
    query = read_query(client_schemas.ClientListQuery())
    ws = workspace()
    cards = clients.client_cards(
        ws.id,
        search=query.get("search", ""),
        status=query.get("status"),
        view=query["view"],
        sort=query["sort"],
        page=query["page"],
        per_page=query["per_page"],
    )
    envelope = {
        "items": [
            client_schemas.client_summary(c, cards.currency) for c in cards.cards
        ],
        "page": cards.page,
        "per_page": cards.per_page,
        "total": cards.total,
        "pages": cards.pages,
    }
    return _answer(client_schemas.ClientPageOut(), envelope)


@bp.get("/clients/<int:client_id>")
@documented(
    Operation(
        summary="Read a client, billing details included",
        tag="clients",
        response=client_schemas.ClientOut,
    )
)
def read_client(client_id: int) -> Response:
    """One client, billing details included."""
    return _answer(client_schemas.ClientOut(), _client_or_404(client_id))


@bp.post("/clients")
@documented(
    Operation(
        summary="Create a client",
        tag="clients",
        body=client_schemas.ClientIn,
        response=client_schemas.ClientOut,
        status=201,
    )
)
def create_client() -> Response:
    """A new client from the body."""
    data = read_json(client_schemas.ClientIn())
    try:
        client = clients.create_client(workspace().id, data, user_id=actor_id())
    except clients.ValidationError as exc:
        raise _client_refusal(exc) from exc
    db.session.commit()
    return _answer(client_schemas.ClientOut(), client, 201)


@bp.patch("/clients/<int:client_id>")
@documented(
    Operation(
        summary="Change some fields of a client",
        tag="clients",
        body=client_schemas.ClientUpdateIn,
        response=client_schemas.ClientOut,
    )
)
def update_client(client_id: int) -> Response:
    """Change the fields the body names; the others stay."""
    client = _client_or_404(client_id)
    data = read_json(client_schemas.ClientUpdateIn())
    try:
        clients.update_client(workspace().id, client.id, data, user_id=actor_id())
    except clients.ValidationError as exc:
        raise _client_refusal(exc) from exc
    db.session.commit()
    return _answer(client_schemas.ClientOut(), client)


@bp.get("/clients/<int:client_id>/projects")
@documented(
    Operation(
        summary="List the projects of a client",
        tag="projects",
        query=PageQuery,
        response=client_schemas.ProjectPageOut,
        description="Active ones first, newest first within a status.",
    )
)
def list_projects(client_id: int) -> Response:
    """One page of a client's projects."""
    client = _client_or_404(client_id)
    query = read_query(PageQuery())
    projects = clients.projects_of(workspace().id, client.id)
    page, per_page = query["page"], query["per_page"]
    envelope = {
        "items": projects[(page - 1) * per_page : page * per_page],
        "page": page,
        "per_page": per_page,
        "total": len(projects),
        "pages": max(1, math.ceil(len(projects) / per_page)),
    }
    return _answer(client_schemas.ProjectPageOut(), envelope)


@bp.post("/clients/<int:client_id>/projects")
@documented(
    Operation(
        summary="Create a project of a client",
        tag="projects",
        body=client_schemas.ProjectIn,
        response=client_schemas.ProjectOut,
        status=201,
    )
)
def create_project(client_id: int) -> Response:
    """A new project of the client."""
    client = _client_or_404(client_id)
    data = read_json(client_schemas.ProjectIn())
    try:
        project = clients.create_project(
            workspace().id, client.id, data, user_id=actor_id()
        )
    except clients.ValidationError as exc:
        raise _client_refusal(exc) from exc
    db.session.commit()
    return _answer(client_schemas.ProjectOut(), project, 201)


# --- opportunities ----------------------------------------------------------------

#: The pipeline's field names that the API calls differently.
PIPELINE_FIELD_NAMES = {"value_minor": "value"}


def _pipeline_refusal(exc: pipeline.PipelineError) -> ApiError:
    db.session.rollback()
    messages = {
        PIPELINE_FIELD_NAMES.get(field, field): [message]
        for field, message in exc.errors.items()
    }
    return ApiError(422, _("Some fields are not valid."), fields=messages)


def _opportunity_or_404(opportunity_id: int) -> Opportunity:
    opportunity = pipeline.get_opportunity(workspace().id, opportunity_id)
    if opportunity is None:
        raise NotFound()
    return opportunity


def _opportunity_answer(opportunity: Opportunity, status: int = 200) -> Response:
    data = pipeline_schemas.opportunity_data(opportunity, workspace().currency)
    return _answer(pipeline_schemas.OpportunityOut(), data, status)


@bp.get("/opportunities")
@documented(
    Operation(
        summary="List opportunities",
        tag="opportunities",
        query=pipeline_schemas.OpportunityListQuery,
        response=pipeline_schemas.OpportunityPageOut,
        description="By stage, then by place in the stage's column.",
    )
)
def list_opportunities() -> Response:
    """One page of the workspace's opportunities."""
    query = read_query(pipeline_schemas.OpportunityListQuery())
    ws = workspace()
    stage_order = case(
        {stage: index for index, stage in enumerate(pipeline_schemas.STAGES)},
        value=Opportunity.stage,
    )
    statement = (
        select(Opportunity)
        .options(joinedload(Opportunity.client), joinedload(Opportunity.lost_reason))
        .where(Opportunity.workspace_id == ws.id)
        .order_by(stage_order, Opportunity.position, Opportunity.id)
    )
    if "stage" in query:
        statement = statement.where(Opportunity.stage == query["stage"])
    if "client_id" in query:
        statement = statement.where(Opportunity.client_id == query["client_id"])
    rows, envelope = paginate(statement, query)
    envelope["items"] = [
        pipeline_schemas.opportunity_data(row.Opportunity, ws.currency) for row in rows
    ]
    return _answer(pipeline_schemas.OpportunityPageOut(), envelope)


@bp.get("/opportunities/<int:opportunity_id>")
@documented(
    Operation(
        summary="Read an opportunity",
        tag="opportunities",
        response=pipeline_schemas.OpportunityOut,
    )
)
def read_opportunity(opportunity_id: int) -> Response:
    """One opportunity with its weighted value."""
    return _opportunity_answer(_opportunity_or_404(opportunity_id))


@bp.post("/opportunities")
@documented(
    Operation(
        summary="Create an opportunity in an open stage",
        tag="opportunities",
        body=pipeline_schemas.OpportunityIn,
        response=pipeline_schemas.OpportunityOut,
        status=201,
    )
)
def create_opportunity() -> Response:
    """A new opportunity in an open stage."""
    data = read_json(pipeline_schemas.OpportunityIn())
    ws = workspace()
    value = data.pop("value")
    value_minor = 0 if value is None else _minor(value, "value", ws.currency)
    try:
        opportunity = pipeline.create_opportunity(
            ws, actor_id=actor_id(), value_minor=value_minor, **data
        )
    except pipeline.PipelineError as exc:
        raise _pipeline_refusal(exc) from exc
    return _opportunity_answer(opportunity, 201)


@bp.post("/opportunities/<int:opportunity_id>/stage")
@documented(
    Operation(
        summary="Move an opportunity to a stage (lost needs a reason)",
        tag="opportunities",
        body=pipeline_schemas.StageMoveIn,
        response=pipeline_schemas.OpportunityOut,
        description="Won and lost close the opportunity; moving it back to an "
        "open stage reopens it.",
    )
)
def move_opportunity(opportunity_id: int) -> Response:
    """Move an opportunity to a stage or a place in its column."""
    opportunity = _opportunity_or_404(opportunity_id)
    data = read_json(pipeline_schemas.StageMoveIn())
    stage = data.pop("stage")
    try:
        pipeline.move_stage(opportunity, stage, actor_id=actor_id(), **data)
    except pipeline.PipelineError as exc:
        raise _pipeline_refusal(exc) from exc
    return _opportunity_answer(opportunity)
