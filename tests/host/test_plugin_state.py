"""Switching ClientFlow off and on per workspace keeps its data."""

from __future__ import annotations

from clientflow_plugin.models import Client
from host_stub.extensions import db
from host_stub.models import PluginState
from host_stub.plugin_state import set_enabled


def add_client(workspace, name="Keep me"):
    client = Client(workspace_id=workspace.id, name=name)
    db.session.add(client)
    db.session.commit()
    return client.id


def test_disabling_hides_entry_answers_404_and_keeps_rows(owner_client, workspace):
    client_id = add_client(workspace)

    set_enabled(workspace, "clientflow", False, by=None)
    home = owner_client.get(f"/w/{workspace.slug}/").get_data(as_text=True)
    page = owner_client.get(f"/w/{workspace.slug}/clientflow/")

    assert "/clientflow/" not in home
    assert page.status_code == 404
    assert db.session.get(Client, client_id).name == "Keep me"


def test_enabling_again_brings_everything_back(owner_client, workspace):
    client_id = add_client(workspace)
    set_enabled(workspace, "clientflow", False, by=None)

    set_enabled(workspace, "clientflow", True, by=None)

    assert owner_client.get(f"/w/{workspace.slug}/clientflow/").status_code == 200
    assert db.session.get(Client, client_id) is not None


def test_other_workspaces_are_not_affected(
    app, make_workspace, make_user, login, workspace, owner_client
):
    other = make_workspace()
    other_client = login(app.test_client(), make_user("agency_owner", other))

    set_enabled(workspace, "clientflow", False, by=None)

    assert other_client.get(f"/w/{other.slug}/clientflow/").status_code == 200


def test_admin_page_switches_plugin_and_records_who(app, make_user, login, workspace):
    admin = make_user(is_platform_admin=True)
    client = login(app.test_client(), admin)

    response = client.post(
        "/admin/plugins",
        data={
            "workspace_id": workspace.id,
            "plugin": "clientflow",
            "action": "disable",
        },
    )

    state = db.session.query(PluginState).filter_by(workspace_id=workspace.id).one()
    assert response.status_code == 302
    assert state.enabled is False
    assert state.changed_by_id == admin.id


def test_admin_page_refuses_workspace_owner(owner_client, workspace):
    response = owner_client.post(
        "/admin/plugins",
        data={
            "workspace_id": workspace.id,
            "plugin": "clientflow",
            "action": "disable",
        },
    )

    assert response.status_code == 403


def test_cli_disables_and_enables(app, workspace):
    runner = app.test_cli_runner()

    off = runner.invoke(
        args=["plugins", "disable", "clientflow", "--workspace", "acme"]
    )
    db.session.expire_all()
    state_off = db.session.query(PluginState).filter_by(workspace_id=workspace.id).one()
    enabled_after_off = state_off.enabled
    on = runner.invoke(args=["plugins", "enable", "clientflow", "--workspace", "acme"])
    db.session.expire_all()

    assert off.exit_code == 0 and on.exit_code == 0
    assert enabled_after_off is False
    assert (
        db.session.query(PluginState).filter_by(workspace_id=workspace.id).one().enabled
    )


def test_cli_names_an_unknown_workspace(app):
    result = app.test_cli_runner().invoke(
        args=["plugins", "enable", "clientflow", "--workspace", "nope"]
    )

    assert result.exit_code != 0
    assert "no workspace" in result.output
