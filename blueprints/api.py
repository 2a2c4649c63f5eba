"""ClientFlow's JSON API: clients, projects, invoices and opportunities.

Every view reads the request, calls the domain and shapes the answer with a
schema; the guard in ``access.py`` has already checked the caller. Every
error, including the guard's, is JSON ``{"error", "message", "fields"}``.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from functools import cache

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from clientflow_plugin.schemas.openapi import API_ENDPOINT_PREFIX, build_document
from host_stub.sdk import current_workspace, db, exempt_csrf

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The guard checks CSRF itself, and only for session callers: a bearer token
# cannot ride along on a forged cross-site request.
exempt_csrf(bp)

#: The URL rule of the API's root; the OpenAPI paths are relative to it.
API_RULE_PREFIX = "/w/<workspace>/clientflow/api/v1"

#: Path converter of ids: larger numbers cannot exist and would overflow the
#: database's integer columns, so they never reach a view.
ID = "int(max=2147483647)"

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


def error_response(
    status: int, error: str, message: str, fields: dict | None = None
) -> Response:
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


def workspace():
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
