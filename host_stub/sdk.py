"""The plugin's whole view of the workspace platform.

A plugin imports from this module and from nothing else of ``host_stub``; a
production host offers a module with the same names and the plugin runs
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from flask_login import current_user
from flask_principal import Permission
from werkzeug.local import LocalProxy

from .extensions import db
from .hookspecs import hookimpl
from .mail import MailError, send_mail
from .migrating import run_plugin_migrations_env
from .models import Membership, Role, User, Workspace
from .types import AwareDateTime

__all__ = [
    "LAYOUT_TEMPLATE",
    "AwareDateTime",
    "MailError",
    "Membership",
    "MigrationSource",
    "NavItem",
    "PluginInfo",
    "Role",
    "User",
    "Workspace",
    "add_translation_directory",
    "current_member",
    "current_user",
    "current_workspace",
    "db",
    "exempt_csrf",
    "has_need",
    "host_config",
    "hookimpl",
    "plugin_enabled",
    "protect_csrf",
    "register_blueprint",
    "run_plugin_migrations_env",
    "send_mail",
    "workspace_role_need",
]

#: The template plugin pages extend; it offers the blocks ``title``,
#: ``page_header``, ``content`` and ``scripts``.
LAYOUT_TEMPLATE = "host/layout.html"


@dataclass(frozen=True)
class NavItem:
    """One entry of the workspace navigation.

    ``need`` is the identity need a member must hold for the entry to show;
    the host checks it, so no plugin can forget to.
    """

    label: Any
    endpoint: str
    need: tuple
    order: int = 100
    icon: str = ""
    match_prefix: str = ""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    description: str


@dataclass(frozen=True)
class MigrationSource:
    """Where a plugin keeps its Alembic scripts and which version table it uses."""

    name: str
    script_location: str
    version_table: str


def workspace_role_need(workspace_id: int, role: str) -> tuple:
    return ("workspace_role", workspace_id, role)


def has_need(need: tuple) -> bool:
    """Whether the identity of the current request provides ``need``."""
    return Permission(need).can()


def _current_workspace() -> Workspace | None:
    return g.get("workspace")


def _current_member() -> Membership | None:
    return g.get("membership")


current_workspace: Workspace | None = LocalProxy(_current_workspace)  # type: ignore
current_member: Membership | None = LocalProxy(_current_member)  # type: ignore


def plugin_enabled(workspace: Workspace, plugin: str) -> bool:
    """Whether a platform admin has switched ``plugin`` on for ``workspace``."""
    from .plugin_state import is_enabled

    return is_enabled(workspace, plugin)


def register_blueprint(app: Flask, blueprint, url_prefix: str) -> None:
    """Register a plugin blueprint; a name or prefix clash fails the plugin."""
    app.extensions["workspace_plugins"].register_blueprint(app, blueprint, url_prefix)


def host_config(key: str, default: Any = None) -> Any:
    return current_app.config.get(key, default)


def protect_csrf() -> None:
    """Check the CSRF token of the current request; 400 when it is missing or wrong."""
    from .extensions import csrf

    csrf.protect()


def exempt_csrf(view_or_blueprint):
    """Let a view or blueprint check CSRF itself (e.g. a token-authenticated API)."""
    from .extensions import csrf

    return csrf.exempt(view_or_blueprint)


def add_translation_directory(app: Flask, path: str) -> None:
    """Add a plugin's ``translations`` folder to the platform's catalogues."""
    from pathlib import Path

    from . import _add_translation_directory

    _add_translation_directory(app, Path(path))
