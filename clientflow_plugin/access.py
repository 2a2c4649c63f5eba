"""The one check every ClientFlow URL passes.

It runs before any view of the plugin's blueprints: the workspace exists, the
plugin is enabled for it, and the caller is its Agency Owner (or holds one of
its API tokens, for the API).
"""

from __future__ import annotations

import hashlib
import logging

from flask import abort, g, redirect, request, url_for

from host_stub.sdk import (
    current_member,
    current_user,
    current_workspace,
    has_need,
    plugin_enabled,
)

from . import PLUGIN_NAME

logger = logging.getLogger(__name__)


def manage_need(workspace_id: int) -> tuple:
    """The need of an Agency Owner of ``workspace_id``; nothing else grants it."""
    return ("clientflow", workspace_id, "manage")


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def require_enabled_workspace():
    """404 unless the URL names a workspace in which ClientFlow is enabled."""
    workspace = current_workspace._get_current_object()
    if workspace is None or not plugin_enabled(workspace, PLUGIN_NAME):
        abort(404)
    return workspace


def require_owner():
    """The guard of every page: an enabled workspace and its Agency Owner."""
    workspace = require_enabled_workspace()
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_member._get_current_object() is None:
        abort(404)
    if not has_need(manage_need(workspace.id)):
        logger.warning(
            "user %s refused ClientFlow in workspace %s",
            current_user.id,
            workspace.slug,
        )
        abort(403)
    g.clientflow_actor_id = current_user.id
    return None
