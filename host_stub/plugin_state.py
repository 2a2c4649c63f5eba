"""Per-workspace plugin state: whether a plugin is switched on, by whom, when."""

from __future__ import annotations

import logging

from flask import current_app, g
from sqlalchemy import select

from .extensions import db
from .models import PluginState, User, Workspace, utcnow

logger = logging.getLogger(__name__)


def is_enabled(workspace: Workspace, plugin: str) -> bool:
    cache = g.setdefault("plugin_state_cache", {}) if _has_app_context() else {}
    key = (workspace.id, plugin)
    if key not in cache:
        cache[key] = bool(
            db.session.scalar(
                select(PluginState.enabled).where(
                    PluginState.workspace_id == workspace.id,
                    PluginState.plugin == plugin,
                )
            )
        )
    return cache[key]


def set_enabled(
    workspace: Workspace, plugin: str, enabled: bool, by: User | None
) -> PluginState:
    """Switch a plugin on or off for one workspace; its data is never touched."""
    host = current_app.extensions["workspace_plugins"]
    if plugin not in host.records:
        raise LookupError(f"no plugin named {plugin!r}")
    state = db.session.scalar(
        select(PluginState).where(
            PluginState.workspace_id == workspace.id, PluginState.plugin == plugin
        )
    )
    if state is None:
        state = PluginState(workspace_id=workspace.id, plugin=plugin)
        db.session.add(state)
    state.enabled = enabled
    state.changed_by_id = by.id if by else None
    state.changed_at = utcnow()
    db.session.commit()
    g.pop("plugin_state_cache", None)
    hook = "workspace_plugin_enabled" if enabled else "workspace_plugin_disabled"
    host.call_one(plugin, hook, workspace=workspace)
    logger.info(
        "plugin %s %s for workspace %s by %s",
        plugin,
        "enabled" if enabled else "disabled",
        workspace.slug,
        f"user {by.id}" if by else "the command line",
    )
    return state


def _has_app_context() -> bool:
    from flask import has_app_context

    return has_app_context()
