"""The workspace navigation shows plugin entries only to those who hold their need."""

from __future__ import annotations

import types

import pytest

from host_stub.navigation import visible_items
from host_stub.sdk import NavItem, hookimpl


def nav_labels(client, slug):
    html = client.get(f"/w/{slug}/").get_data(as_text=True)
    return html


def test_owner_sees_the_clientflow_entry(owner_client, workspace):
    html = nav_labels(owner_client, workspace.slug)

    assert f'href="/w/{workspace.slug}/clientflow/"' in html


@pytest.mark.parametrize("role", ["manager", "developer", "client"])
def test_other_roles_see_no_clientflow_entry(role_client, workspace, role):
    client = role_client(role)

    html = nav_labels(client, workspace.slug)

    assert "/clientflow/" not in html
    assert "ClientFlow" not in html


def test_owner_of_one_workspace_sees_no_entry_in_another(
    app, make_workspace, make_user, login
):
    first, second = make_workspace(), make_workspace()
    user = make_user("agency_owner", first)
    from host_stub.extensions import db
    from host_stub.models import Membership

    db.session.add(Membership(user=user, workspace=second, role="manager"))
    db.session.commit()
    client = login(app.test_client(), user)

    assert "/clientflow/" in nav_labels(client, first.slug)
    assert "/clientflow/" not in nav_labels(client, second.slug)


def test_entry_without_its_need_is_never_shown(app, owner, workspace, login):
    leaky = types.ModuleType("leaky_nav")

    @hookimpl
    def workspace_nav_items(workspace):
        return [NavItem("Secret", "host.members", need=("never", "granted"))]

    leaky.workspace_nav_items = workspace_nav_items
    plugins = app.extensions["workspace_plugins"]
    plugins.register("leaky", leaky)
    from host_stub.plugin_state import set_enabled

    set_enabled(workspace, "leaky", True, by=None)
    try:
        client = login(app.test_client(), owner)
        html = client.get(f"/w/{workspace.slug}/").get_data(as_text=True)
        with app.test_request_context(f"/w/{workspace.slug}/"):
            items = visible_items(workspace)
    finally:
        plugins.unregister("leaky")

    assert "Secret" not in html
    assert all(item.label != "Secret" for item in items)


def test_nav_item_is_frozen():
    item = NavItem("x", "y", ("n",))

    with pytest.raises(AttributeError):
        item.label = "changed"
