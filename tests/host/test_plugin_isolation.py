"""A plugin that raises never takes the host down."""

from __future__ import annotations

import types

import pytest
from flask import Blueprint

from host_stub.extensions import db
from host_stub.sdk import hookimpl, register_blueprint
from tests.conftest import make_app


def broken_plugin(where: str) -> types.ModuleType:
    module = types.ModuleType(f"broken_{where}")

    if where == "init":

        @hookimpl
        def workspace_init_app(app):
            raise RuntimeError("boom at start")

        module.workspace_init_app = workspace_init_app
    elif where == "nav":

        @hookimpl
        def workspace_nav_items(workspace):
            raise RuntimeError("boom in nav")

        module.workspace_nav_items = workspace_nav_items
    elif where == "misspelt":

        @hookimpl
        def workspace_nav_itemz(workspace):
            return []

        module.workspace_nav_itemz = workspace_nav_itemz
    return module


@pytest.fixture
def app_with(database_url, tmp_path):
    built = []

    def build(**plugins):
        app = make_app(database_url, str(tmp_path), EXTRA_PLUGINS=plugins)
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("where", ["init", "misspelt"])
def test_plugin_failing_at_start_is_marked_failed(app_with, where, caplog):
    app = app_with(bad=broken_plugin(where))

    record = app.extensions["workspace_plugins"].records["bad"]

    assert record.failed
    assert not app.extensions["workspace_plugins"].records["clientflow"].failed
    assert "bad" in caplog.text


def test_plugin_raising_in_nav_keeps_pages_serving(app, owner, workspace, login):
    plugins = app.extensions["workspace_plugins"]
    plugins.register("bad", broken_plugin("nav"))
    from host_stub.plugin_state import set_enabled

    set_enabled(workspace, "bad", True, by=None)
    try:
        client = login(app.test_client(), owner)
        response = client.get(f"/w/{workspace.slug}/")
        failed = plugins.records["bad"].failed
    finally:
        plugins.unregister("bad")

    assert response.status_code == 200
    assert "/clientflow/" in response.get_data(as_text=True)
    assert failed


def test_failed_plugin_is_shown_on_admin_page(app_with, make_user, login):
    app = app_with(bad=broken_plugin("init"))
    with app.app_context():
        from host_stub.cli import make_user as make_host_user
        from host_stub.extensions import db

        make_host_user("root@platform.example", "Root", "correct horse battery", True)
        db.session.commit()
    client = app.test_client()
    client.post(
        "/login",
        data={"email": "root@platform.example", "password": "correct horse battery"},
    )

    html = client.get("/admin/plugins").get_data(as_text=True)

    assert "Failed" in html
    assert "boom at start" in html


def test_blueprint_prefix_clash_fails_the_second_plugin(app_with):
    thief = types.ModuleType("thief")

    @hookimpl
    def workspace_init_app(app):
        register_blueprint(
            app, Blueprint("thief", __name__), "/w/<workspace>/clientflow"
        )

    thief.workspace_init_app = workspace_init_app
    app = app_with(thief=thief)

    record = app.extensions["workspace_plugins"].records["thief"]
    assert record.failed
    assert "held by clientflow" in record.error


def test_blocked_plugin_is_never_imported(database_url, tmp_path, monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "clientflow_plugin.plugin", raising=False)
    app = make_app(database_url, str(tmp_path), BLOCKED_PLUGINS="clientflow")

    try:
        records = app.extensions["workspace_plugins"].records
        imported = "clientflow_plugin.plugin" in sys.modules
    finally:
        with app.app_context():
            db.engine.dispose()

    assert "clientflow" not in records
    assert not imported
