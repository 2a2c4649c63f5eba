"""ClientFlow's implementations of the workspace platform's hooks."""

from __future__ import annotations

import logging
from importlib.resources import files

from flask import Flask
from flask_babel import lazy_gettext as _l

from host_stub.sdk import (
    MigrationSource,
    NavItem,
    PluginInfo,
    add_translation_directory,
    hookimpl,
)

from . import PLUGIN_NAME, __version__, crypto, models  # noqa: F401  (tables)
from .access import manage_need
from .portal import is_linked_client_member, portal_need

logger = logging.getLogger(__name__)


@hookimpl
def workspace_init_app(app: Flask) -> None:
    from .blueprints_setup import register_blueprints
    from .cli import clientflow_cli
    from .formatting import register_filters

    # The commands come first: `generate-key` must work when the keys do not.
    app.cli.add_command(clientflow_cli)
    crypto.configure(app)
    register_blueprints(app)
    register_filters(app)
    add_translation_directory(app, str(files("clientflow_plugin") / "translations"))


@hookimpl
def workspace_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="ClientFlow",
        version=__version__,
        description=str(
            _l("Clients, invoicing and the sales pipeline, for the Agency Owner.")
        ),
    )


@hookimpl
def workspace_nav_items(workspace) -> list[NavItem]:
    return [
        NavItem(
            label=_l("ClientFlow"),
            endpoint="clientflow.dashboard.index",
            need=manage_need(workspace.id),
            order=50,
            icon="clientflow",
            match_prefix=f"/w/{workspace.slug}/clientflow/",
        ),
        # Client members linked to a ClientFlow client: their own invoices.
        NavItem(
            label=_l("My invoices"),
            endpoint="clientflow_portal.home",
            need=portal_need(workspace.id),
            order=55,
            icon="invoices",
            match_prefix=f"/w/{workspace.slug}/portal/",
        ),
    ]


@hookimpl
def workspace_identity_loaded(identity, member) -> None:
    if member.role == "agency_owner":
        identity.provides.add(manage_need(member.workspace_id))
    elif member.role == "client" and is_linked_client_member(
        member.workspace_id, member.user_id
    ):
        identity.provides.add(portal_need(member.workspace_id))


@hookimpl
def workspace_migrations() -> MigrationSource:
    return MigrationSource(
        name=PLUGIN_NAME,
        script_location=str(files("clientflow_plugin.migrations")),
        version_table="alembic_version_clientflow",
    )


@hookimpl
def workspace_plugin_enabled(workspace) -> None:
    from .setup import ensure_workspace_defaults

    ensure_workspace_defaults(workspace)
    logger.info("ClientFlow set up for workspace %s", workspace.slug)


@hookimpl
def workspace_plugin_disabled(workspace) -> None:
    # Nothing is deleted: the data is back as it was when the plugin returns.
    logger.info("ClientFlow switched off for workspace %s; data kept", workspace.slug)


@hookimpl
def workspace_seed_demo(workspace) -> None:
    from .demo import seed

    seed(workspace)
