"""The workspace navigation: host links plus every plugin's entries.

This is the one place where a plugin entry is checked against the need it
names; a plugin cannot show an entry to a member who lacks it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_principal import Permission

from .models import Workspace
from .plugin_state import is_enabled

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    active: bool
    icon: str


def host_items(workspace: Workspace):
    from .sdk import NavItem

    return [
        NavItem(
            _l("Overview"),
            "host.workspace_home",
            ("workspace_member", workspace.id),
            order=0,
            icon="home",
        ),
        NavItem(
            _l("Members"),
            "host.members",
            ("workspace_member", workspace.id),
            order=900,
            icon="users",
        ),
        NavItem(
            _l("Settings"),
            "host.settings",
            ("workspace_role", workspace.id, "agency_owner"),
            order=950,
            icon="settings",
        ),
    ]


def visible_items(workspace: Workspace):
    """The entries the current identity may see, plugins' included, in order."""
    plugins = current_app.extensions["workspace_plugins"]
    items = list(host_items(workspace))
    for name, entries in plugins.call_each("workspace_nav_items", workspace=workspace):
        if not is_enabled(workspace, name):
            continue
        items.extend(entries)
    shown = [item for item in items if Permission(tuple(item.need)).can()]
    return sorted(shown, key=lambda item: item.order)


def nav_links(workspace: Workspace) -> list[NavLink]:
    links = []
    for item in visible_items(workspace):
        url = url_for(item.endpoint, workspace=workspace.slug)
        prefix = item.match_prefix or url
        active = request.path == url or (
            bool(item.match_prefix) and request.path.startswith(prefix)
        )
        links.append(NavLink(str(item.label), url, active, item.icon))
    return links
