"""Every URL of the app, tried as every kind of caller (cases C-10 and C-11)."""

from __future__ import annotations

import pytest

from tests.access_rules import kind_of

NO_BODY = {"HEAD", "OPTIONS"}


def url_for_rule(rule, workspace_slug: str, object_id: int = 1) -> str:
    values = {}
    for arg in rule.arguments:
        if arg == "workspace":
            values[arg] = workspace_slug
        elif rule._converters[arg].__class__.__name__ == "IntegerConverter":
            values[arg] = object_id
        else:
            values[arg] = "x"
    return rule.build(values, append_unknown=False)[1]


def all_calls(app, kinds):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if kind_of(rule.endpoint) not in kinds:
            continue
        for method in sorted(rule.methods - NO_BODY):
            yield rule, method


def test_every_endpoint_has_an_access_rule(app):
    unknown = [
        r.endpoint for r in app.url_map.iter_rules() if kind_of(r.endpoint) == "unknown"
    ]

    assert unknown == []


def test_clientflow_urls_exist(app):
    guarded = list(all_calls(app, {"guarded"}))

    assert len(guarded) >= 1


@pytest.mark.parametrize("role", ["manager", "developer", "client"])
def test_other_roles_get_403_on_every_clientflow_url(app, role_client, workspace, role):
    client = role_client(role)

    for rule, method in all_calls(app, {"guarded"}):
        url = url_for_rule(rule, workspace.slug)
        response = client.open(url, method=method)
        assert response.status_code == 403, (method, url, response.status_code)


def test_owner_of_another_workspace_gets_404(
    app, make_workspace, make_user, login, workspace
):
    other = make_workspace("other")
    client = login(app.test_client(), make_user("agency_owner", other))

    for rule, method in all_calls(app, {"guarded"}):
        url = url_for_rule(rule, workspace.slug)
        response = client.open(url, method=method)
        assert response.status_code == 404, (method, url, response.status_code)


def test_anonymous_is_sent_to_log_in(app, workspace):
    client = app.test_client()

    for rule, method in all_calls(app, {"guarded"}):
        url = url_for_rule(rule, workspace.slug)
        response = client.open(url, method=method)
        if "/api/" in url:
            assert response.status_code == 401, (method, url)
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/login" in response.location


def test_owner_passes_the_guard(app, owner_client, workspace):
    for rule, method in all_calls(app, {"guarded"}):
        url = url_for_rule(rule, workspace.slug, object_id=999999)
        response = owner_client.open(url, method=method)
        assert response.status_code not in (401, 403, 500), (method, url)
        assert "/login" not in (response.location or ""), (method, url)


def test_disabled_plugin_answers_404_everywhere(app, make_workspace, make_user, login):
    workspace = make_workspace("sleepy", enabled=False)
    client = login(app.test_client(), make_user("agency_owner", workspace))

    for rule, method in all_calls(app, {"guarded", "open"}):
        url = url_for_rule(rule, workspace.slug)
        response = client.open(url, method=method)
        assert response.status_code == 404, (method, url, response.status_code)


def test_unknown_workspace_answers_404(app, owner_client):
    for rule, method in all_calls(app, {"guarded", "open"}):
        url = url_for_rule(rule, "no-such-workspace")
        response = owner_client.open(url, method=method)
        assert response.status_code == 404, (method, url, response.status_code)


def test_host_workspace_pages_refuse_non_members(
    app, make_workspace, make_user, login, workspace
):
    outsider = login(app.test_client(), make_user("agency_owner", make_workspace()))

    for rule, method in all_calls(app, {"workspace"}):
        response = outsider.open(url_for_rule(rule, workspace.slug), method=method)
        assert response.status_code == 404, (method, rule.rule)


def test_admin_pages_refuse_non_admins(app, owner_client):
    for rule, method in all_calls(app, {"admin"}):
        response = owner_client.open(url_for_rule(rule, "x"), method=method)
        assert response.status_code in (403, 404), (method, rule.rule)
