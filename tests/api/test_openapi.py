"""The OpenAPI document: generated from the schemas, with the bearer scheme."""

from __future__ import annotations


def test_document_is_openapi_3(api):
    document = api.get("/openapi.json").json

    assert document["openapi"].startswith("3.0")
    assert document["info"]["title"] == "ClientFlow API"


def test_document_names_this_workspace_as_its_server(api, workspace):
    document = api.get("/openapi.json").json

    assert document["servers"] == [{"url": f"/w/{workspace.slug}/clientflow/api/v1"}]


def test_document_requires_the_bearer_scheme(api):
    document = api.get("/openapi.json").json

    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {
        "type": "http",
        "scheme": "bearer",
        "description": "A workspace API token",
    }
    assert document["security"] == [{"bearerAuth": []}]


def test_every_api_route_is_described(app, api):
    document = api.get("/openapi.json").json
    undocumented = {"index", "openapi", "unknown"}

    described = {
        operation["operationId"]
        for path in document["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    routes = {
        rule.endpoint.removeprefix("clientflow.api.")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("clientflow.api.")
    }

    assert routes - undocumented == described


def test_every_error_is_described_with_the_error_schema(api):
    document = api.get("/openapi.json").json

    for path in document["paths"].values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code in ("400", "401", "403", "404"):
                schema = operation["responses"][code]["content"]["application/json"]
                assert schema["schema"] == {"$ref": "#/components/schemas/Error"}


def test_amounts_are_documented_as_decimal_strings(api):
    schemas = api.get("/openapi.json").json["components"]["schemas"]

    line = schemas["LineIn"]["properties"]["unit_price"]
    assert line["type"] == "string"
    assert "pattern" in line


def test_owner_session_reads_the_document(api_as, workspace, owner_client):
    response = api_as(workspace, client=owner_client).get("/openapi.json")

    assert response.status_code == 200
    assert "paths" in response.json
