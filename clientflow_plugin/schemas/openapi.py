"""The OpenAPI 3 document of the API, generated from its views and schemas.

Each view of the API carries an :class:`Operation` (set by :func:`documented`);
the document walks the app's URL map, so a route cannot exist without being
described, and a description cannot drift from the schema the view uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

from .. import __version__
from .common import MAX_ID, ErrorOut

#: The blueprint whose views the document describes.
API_ENDPOINT_PREFIX = "clientflow.api."

SECURITY_SCHEME = "bearerAuth"

#: Errors any operation can answer: a bad token, a member who is not the
#: owner, an unknown workspace or object, and a malformed request.
COMMON_ERRORS = (400, 401, 403, 404)

_CONVERTER = re.compile(r"<(?:(?P<conv>[a-zA-Z_]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Operation:
    """What the document says about one view of the API."""

    summary: str
    tag: str
    response: type[Schema] | None
    status: int = 200
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    errors: tuple[int, ...] = ()
    description: str = ""
    extra: dict = field(default_factory=dict)

    def error_codes(self) -> list[int]:
        """The 4xx statuses this operation may answer."""
        codes = set(COMMON_ERRORS) | set(self.errors)
        if self.body is not None:
            codes |= {413, 415, 422}
        if self.query is not None:
            codes.add(422)
        return sorted(codes)


def documented(operation: Operation) -> Callable:
    """Attach ``operation`` to a view so that the document describes it."""

    def mark(view: Callable) -> Callable:
        view.api_operation = operation
        return view

    return mark


def openapi_path(rule: str, prefix: str) -> tuple[str, list[dict]]:
    """A Werkzeug rule below ``prefix`` as an OpenAPI path and its parameters."""
    params = []

    def replace(match: re.Match) -> str:
        name = match.group("name")
        schema: dict = {"type": "string"}
        if match.group("conv") == "int":
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        params.append({"in": "path", "name": name, "required": True, "schema": schema})
        return "{" + name + "}"

    path = _CONVERTER.sub(replace, rule[len(prefix) :])
    return path or "/", params


def build_document(app: Flask, api_prefix: str, server_url: str) -> dict:
    """The OpenAPI document of every documented API route of ``app``.

    ``api_prefix`` is the URL rule of the API's root (with its converters);
    ``server_url`` is where one workspace's API lives.
    """
    spec = APISpec(
        title="ClientFlow API",
        version=__version__,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        servers=[{"url": server_url}],
        security=[{SECURITY_SCHEME: []}],
        info={
            "description": (
                "Clients, projects, invoices and opportunities of one workspace. "
                "Authenticate with an API token created by the Agency Owner on "
                "the Integrations page: `Authorization: Bearer <token>`. Amounts "
                "are exact decimal strings in the currency's major unit, with "
                "the same amount in minor units beside them (`*_minor`)."
            )
        },
    )
    spec.components.security_scheme(
        SECURITY_SCHEME,
        {"type": "http", "scheme": "bearer", "description": "A workspace API token"},
    )
    spec.components.schema("Error", schema=ErrorOut)

    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.rule.startswith(api_prefix)),
        key=lambda r: r.rule,
    )
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        operation = getattr(view, "api_operation", None)
        if operation is None:
            continue
        path, params = openapi_path(rule.rule, api_prefix)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        spec.path(
            path=path,
            parameters=params,
            operations={
                m.lower(): _operation(operation, rule.endpoint, m) for m in methods
            },
        )
    return spec.to_dict()


def _operation(operation: Operation, endpoint: str, method: str) -> dict:
    responses: dict = {}
    if operation.response is None:
        responses[str(operation.status)] = {
            "description": HTTPStatus(operation.status).phrase
        }
    else:
        responses[str(operation.status)] = {
            "description": HTTPStatus(operation.status).phrase,
            "content": {"application/json": {"schema": operation.response}},
        }
    for code in operation.error_codes():
        responses[str(code)] = {
            "description": HTTPStatus(code).phrase,
            "content": {"application/json": {"schema": "Error"}},
        }
    if 401 in operation.error_codes():
        responses["401"]["headers"] = {
            "WWW-Authenticate": {"schema": {"type": "string"}}
        }

    result: dict = {
        "operationId": endpoint.removeprefix(API_ENDPOINT_PREFIX),
        "summary": operation.summary,
        "tags": [operation.tag],
        "responses": responses,
    }
    if operation.description:
        result["description"] = operation.description
    if operation.query is not None:
        result["parameters"] = [{"in": "query", "schema": operation.query}]
    if operation.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": operation.body}},
        }
    result.update(operation.extra)
    return result
