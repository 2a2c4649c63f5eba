"""The Integrations page: API tokens created, shown once, listed and revoked."""

from __future__ import annotations

from sqlalchemy import select

from clientflow_plugin.models import ApiToken
from host_stub.extensions import db


def page_url(workspace, path: str = "/") -> str:
    return f"/w/{workspace.slug}/clientflow/integrations{path}"


def api_get(client, workspace, secret):
    return client.get(
        f"/w/{workspace.slug}/clientflow/api/v1/openapi.json",
        headers={"Authorization": f"Bearer {secret}"},
    )


def create(owner_client, workspace, name="Accounting sync"):
    return owner_client.post(page_url(workspace, "/tokens"), data={"name": name})


def shown_secret(html: str) -> str:
    start = html.index('id="new-token"')
    value = html.index('value="', start) + len('value="')
    return html[value : html.index('"', value)]


def test_created_token_is_shown_on_the_answer(owner_client, workspace):
    response = create(owner_client, workspace)

    assert response.status_code == 200
    assert shown_secret(response.get_data(as_text=True)).startswith("cf_")


def test_created_token_opens_the_api(app, owner_client, workspace):
    secret = shown_secret(create(owner_client, workspace).get_data(as_text=True))

    response = api_get(app.test_client(), workspace, secret)

    assert response.status_code == 200


def test_token_is_never_shown_again(owner_client, workspace):
    secret = shown_secret(create(owner_client, workspace).get_data(as_text=True))

    html = owner_client.get(page_url(workspace)).get_data(as_text=True)

    assert secret not in html
    assert "Accounting sync" in html


def test_page_showing_a_secret_is_not_cached(owner_client, workspace):
    response = create(owner_client, workspace)

    assert response.headers["Cache-Control"] == "no-store"


def test_token_needs_a_name(owner_client, workspace):
    response = create(owner_client, workspace, name="")

    assert response.status_code == 422
    assert db.session.scalar(select(ApiToken)) is None


def test_list_says_when_a_token_was_last_used(app, owner_client, workspace):
    secret = shown_secret(create(owner_client, workspace).get_data(as_text=True))
    before = owner_client.get(page_url(workspace)).get_data(as_text=True)

    api_get(app.test_client(), workspace, secret)

    after = owner_client.get(page_url(workspace)).get_data(as_text=True)
    assert "Never" in before
    assert "Never" not in after


def test_revoked_token_is_refused_by_the_api(app, owner_client, workspace):
    secret = shown_secret(create(owner_client, workspace).get_data(as_text=True))
    token = db.session.scalar(select(ApiToken))

    response = owner_client.post(page_url(workspace, f"/tokens/{token.id}/revoke"))

    assert response.status_code == 302
    assert api_get(app.test_client(), workspace, secret).status_code == 401


def test_revoked_token_stays_listed_as_revoked(owner_client, workspace):
    create(owner_client, workspace)
    token = db.session.scalar(select(ApiToken))

    owner_client.post(page_url(workspace, f"/tokens/{token.id}/revoke"))

    html = owner_client.get(page_url(workspace)).get_data(as_text=True)
    assert "Revoked" in html


def test_token_of_another_workspace_cannot_be_revoked(
    app, owner_client, workspace, make_workspace, make_user, login
):
    other = make_workspace("other")
    other_client = login(app.test_client(), make_user("agency_owner", other))
    create(other_client, other)
    token = db.session.scalar(select(ApiToken))

    response = owner_client.post(page_url(workspace, f"/tokens/{token.id}/revoke"))

    assert response.status_code == 404
    db.session.refresh(token)
    assert token.revoked_at is None


def test_integrations_tab_is_shown_to_the_owner(owner_client, workspace):
    html = owner_client.get(f"/w/{workspace.slug}/clientflow/").get_data(as_text=True)

    assert page_url(workspace) in html
