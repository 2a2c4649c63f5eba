"""Who may call the API: a token of the workspace, or its owner's session."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from clientflow_plugin.api_tokens import revoke_token
from clientflow_plugin.models import ApiToken
from host_stub.extensions import db
from host_stub.models import Membership
from host_stub.plugin_state import set_enabled


def test_token_of_the_workspace_opens_the_api(api):
    response = api.get("/openapi.json")

    assert response.status_code == 200
    assert response.json["openapi"].startswith("3.")


def test_anonymous_caller_gets_401_json(api_as, workspace):
    response = api_as(workspace).get("/openapi.json")

    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert response.json["fields"] == {}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_token_gets_401(api_as, workspace):
    response = api_as(workspace, "cf_not-a-real-token").get("/openapi.json")

    assert response.status_code == 401


def test_header_without_bearer_scheme_gets_401(api_as, workspace, api_token):
    response = api_as(workspace).get(
        "/openapi.json", headers={"Authorization": f"Token {api_token}"}
    )

    assert response.status_code == 401


def test_refused_token_is_logged_without_the_secret(api_as, workspace, caplog):
    secret = "cf_wrong-secret-value"

    api_as(workspace, secret).get("/openapi.json")

    assert "API token refused" in caplog.text
    assert secret not in caplog.text


def test_token_of_another_workspace_gets_401(
    api_as, make_workspace, make_user, make_token, api_token
):
    other = make_workspace("other")
    make_user("agency_owner", other)

    response = api_as(other, api_token).get("/openapi.json")

    assert response.status_code == 401


def test_revoked_token_gets_401(api, workspace, owner):
    token = db.session.scalar(select(ApiToken))
    revoke_token(workspace.id, token.id, actor_id=owner.id)

    response = api.get("/openapi.json")

    assert response.status_code == 401


def test_token_stops_working_when_its_creator_is_no_longer_owner(api, owner):
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == owner.id)
    )
    membership.role = "manager"
    db.session.commit()

    response = api.get("/openapi.json")

    assert response.status_code == 401


def test_token_use_is_recorded_as_last_used(api):
    api.get("/openapi.json")

    token = db.session.scalar(select(ApiToken))
    db.session.refresh(token)
    assert token.last_used_at is not None


def test_last_used_is_not_rewritten_within_a_minute(api):
    api.get("/openapi.json")
    token = db.session.scalar(select(ApiToken))
    first = token.last_used_at

    api.get("/openapi.json")

    db.session.refresh(token)
    assert token.last_used_at == first
    assert first is not None and first > first - timedelta(minutes=1)


def test_only_the_hash_of_the_token_is_stored(api, api_token):
    token = db.session.scalar(select(ApiToken))

    assert api_token not in (token.token_hash, token.name)
    assert len(token.token_hash) == 64


def test_disabled_plugin_answers_404_even_with_a_token(api, workspace):
    set_enabled(workspace, "clientflow", False, by=None)

    response = api.get("/openapi.json")

    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_owner_session_opens_the_api(api_as, workspace, owner_client):
    response = api_as(workspace, client=owner_client).get("/openapi.json")

    assert response.status_code == 200


def test_manager_session_gets_403_json(api_as, workspace, role_client):
    response = api_as(workspace, client=role_client("manager")).get("/openapi.json")

    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


def test_owner_of_another_workspace_gets_404_json(
    api_as, workspace, make_workspace, make_user, login, app
):
    stranger = make_user("agency_owner", make_workspace())
    client = login(app.test_client(), stranger)

    response = api_as(workspace, client=client).get("/openapi.json")

    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_unknown_api_url_answers_json_404(api):
    response = api.get("/no/such/thing")

    assert response.status_code == 404
    assert response.is_json


def test_unknown_method_on_a_known_url_answers_json_405(api):
    response = api.post("/openapi.json")

    assert response.status_code == 405
    assert response.json["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
