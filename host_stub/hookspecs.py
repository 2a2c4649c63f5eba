"""The contract between the workspace platform and its plugins.

Every hook here is documented in ``docs/hooks.md`` and exercised by a test
under ``tests/host``; a test fails when either is missing.
"""

from __future__ import annotations

import pluggy

PROJECT = "workspace"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def workspace_init_app(app):
    """Register the plugin's blueprints, CLI commands and template globals."""


@hookspec
def workspace_plugin_info():
    """Return a ``PluginInfo`` naming and describing the plugin."""


@hookspec
def workspace_nav_items(workspace):
    """Return the plugin's ``NavItem`` entries for a workspace."""


@hookspec
def workspace_identity_loaded(identity, member):
    """Add the plugin's needs to the identity of a workspace member."""


@hookspec
def workspace_migrations():
    """Return the plugin's ``MigrationSource`` for ``flask db upgrade``."""


@hookspec
def workspace_plugin_enabled(workspace):
    """Prepare a workspace in which the plugin was just enabled."""


@hookspec
def workspace_plugin_disabled(workspace):
    """Clean up after the plugin was disabled in a workspace; keep its data."""


@hookspec
def workspace_seed_demo(workspace):
    """Fill the demo workspace with the plugin's demo data."""
