"""Each hookspec of the platform, exercised (a test fails when one is not)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from flask_principal import Identity

from host_stub import hookspecs
from host_stub.extensions import db
from host_stub.models import Membership
from host_stub.sdk import MigrationSource, NavItem, PluginInfo

HOOK_NAMES = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("workspace_")
)


def test_every_hookspec_has_a_test_and_documentation():
    tests = Path(__file__).read_text()
    docs = (Path(__file__).parents[2] / "docs" / "hooks.md").read_text()

    untested = [n for n in HOOK_NAMES if f"def test_hook_{n}" not in tests]
    undocumented = [n for n in HOOK_NAMES if not re.search(rf"^## `{n}\(", docs, re.M)]
    no_docstring = [n for n in HOOK_NAMES if not getattr(hookspecs, n).__doc__]

    assert (untested, undocumented, no_docstring) == ([], [], [])


def test_hook_workspace_init_app(app):
    assert "clientflow" in app.blueprints
    assert "clientflow" in app.cli.commands


def test_hook_workspace_plugin_info(app):
    info = app.extensions["workspace_plugins"].call_one(
        "clientflow", "workspace_plugin_info"
    )

    assert isinstance(info, PluginInfo)
    assert info.name == "ClientFlow"


def test_hook_workspace_nav_items(app, workspace):
    items = app.extensions["workspace_plugins"].call_one(
        "clientflow", "workspace_nav_items", workspace=workspace
    )

    assert [i.endpoint for i in items] == [
        "clientflow.dashboard.index",
        "clientflow_portal.home",
    ]
    assert all(isinstance(i, NavItem) for i in items)
    assert items[0].need == ("clientflow", workspace.id, "manage")
    # Client members linked to a client get "My invoices", nobody else.
    assert items[1].need == ("clientflow", workspace.id, "portal")


def test_hook_workspace_identity_loaded(app, owner, make_user, workspace):
    manager = make_user("manager", workspace)
    plugins = app.extensions["workspace_plugins"]

    def needs_of(user):
        identity = Identity(user.id)
        member = db.session.query(Membership).filter_by(user_id=user.id).one()
        plugins.call_one(
            "clientflow", "workspace_identity_loaded", identity=identity, member=member
        )
        return identity.provides

    assert ("clientflow", workspace.id, "manage") in needs_of(owner)
    assert ("clientflow", workspace.id, "manage") not in needs_of(manager)


def test_hook_workspace_migrations(app):
    source = app.extensions["workspace_plugins"].call_one(
        "clientflow", "workspace_migrations"
    )

    assert isinstance(source, MigrationSource)
    assert source.version_table == "alembic_version_clientflow"
    assert Path(source.script_location, "env.py").is_file()


def test_hook_workspace_plugin_enabled(app, make_workspace):
    from clientflow_plugin.models import Settings, TaxRate

    workspace = make_workspace()

    assert db.session.get(Settings, workspace.id) is not None
    assert db.session.query(TaxRate).filter_by(workspace_id=workspace.id).count() > 0


def test_hook_workspace_plugin_disabled(app, make_workspace, caplog):
    from host_stub.plugin_state import set_enabled

    caplog.set_level("INFO")
    workspace = make_workspace()
    set_enabled(workspace, "clientflow", False, by=None)

    assert "switched off for workspace" in caplog.text


def test_hook_workspace_seed_demo(app, make_workspace):
    from clientflow_plugin.models import Client

    workspace = make_workspace()
    app.extensions["workspace_plugins"].call_one(
        "clientflow", "workspace_seed_demo", workspace=workspace
    )

    assert db.session.query(Client).filter_by(workspace_id=workspace.id).count() > 0
