"""The one check every ClientFlow URL passes.

It runs before any view of the plugin's blueprints: the workspace exists, the
plugin is enabled for it, and the caller is its Agency Owner (or holds one of
its API tokens, for the API).
"""

from __future__ import annotations

import hashlib
import logging

from flask import abort, g, redirect, request, url_for
from werkzeug.exceptions import Unauthorized

from host_stub.sdk import (
    current_member,
    current_user,
    current_workspace,
    has_need,
    host_config,
    plugin_enabled,
    protect_csrf,
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
    if is_api_request():
        return require_api_caller()
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


#: The blueprint of the JSON API; its callers get JSON errors, never a redirect.
API_BLUEPRINT = "clientflow.api"

#: Methods that change data: a session caller must prove them with a CSRF token.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_api_request() -> bool:
    """Whether the current request goes to an endpoint of the JSON API."""
    return API_BLUEPRINT in request.blueprints


def require_api_caller() -> None:
    """The guard of the API: an API token of this workspace, or the owner's session.

    A bearer token never needs a CSRF token, since a browser cannot attach one
    to a forged cross-site request; a session caller does, for every method
    that changes data.
    """
    from .api_tokens import authenticate

    workspace = require_enabled_workspace()
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        token = None
        if scheme.lower() == "bearer" and secret.strip():
            token = authenticate(workspace, secret.strip())
        if token is None:
            logger.warning(
                "API token refused in workspace %s from %s",
                workspace.slug,
                request.remote_addr,
            )
            raise Unauthorized()
        g.clientflow_actor_id = token.created_by_id
        g.clientflow_api_token_id = token.id
        return None

    if not current_user.is_authenticated:
        raise Unauthorized()
    if current_member._get_current_object() is None:
        abort(404)
    if not has_need(manage_need(workspace.id)):
        logger.warning(
            "user %s refused the ClientFlow API in workspace %s",
            current_user.id,
            workspace.slug,
        )
        abort(403)
    if request.method in UNSAFE_METHODS and host_config("WTF_CSRF_ENABLED", True):
        protect_csrf()
    g.clientflow_actor_id = current_user.id
    return None
