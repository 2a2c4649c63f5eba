"""Per-workspace API tokens: created by the owner, shown once, kept only as a hash.

A token works for the one workspace it was created in, until it is revoked or
its creator stops being an Agency Owner of that workspace.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from host_stub.sdk import Membership, Role, db

from .access import hash_token
from .clock import now_utc
from .models import ApiToken

logger = logging.getLogger(__name__)

#: Marks a ClientFlow secret, so that secret scanners and people recognise it.
TOKEN_PREFIX = "cf_"

#: ``last_used_at`` is written at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

NAME_MAX_LENGTH = 120


class TokenError(ValueError):
    """A token that cannot be created as asked."""


def new_secret() -> str:
    """A fresh random secret: 256 bits, URL-safe, with the ClientFlow prefix."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(workspace_id: int, name: str, *, created_by_id: int) -> tuple:
    """Create a token; returns ``(token, secret)``. The secret is never stored."""
    name = (name or "").strip()
    if not name:
        raise TokenError("a token needs a name")
    if len(name) > NAME_MAX_LENGTH:
        raise TokenError(f"a token name has at most {NAME_MAX_LENGTH} characters")

    secret = new_secret()
    token = ApiToken(
        workspace_id=workspace_id,
        name=name,
        token_hash=hash_token(secret),
        created_by_id=created_by_id,
    )
    db.session.add(token)
    db.session.commit()
    logger.info(
        "API token %s created in workspace %s by %s",
        token.id,
        workspace_id,
        created_by_id,
    )
    return token, secret


def tokens_of(workspace_id: int) -> list[ApiToken]:
    """The workspace's tokens, newest first, revoked ones included."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.workspace_id == workspace_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(workspace_id: int, token_id: int, *, actor_id: int) -> ApiToken | None:
    """Revoke a token of the workspace; ``None`` when it has no such token."""
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.id == token_id, ApiToken.workspace_id == workspace_id
        )
    )
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = now_utc()
        db.session.commit()
        logger.info(
            "API token %s revoked in workspace %s by %s",
            token.id,
            workspace_id,
            actor_id,
        )
    return token


def authenticate(workspace, secret: str, at: datetime | None = None) -> ApiToken | None:
    """The live token of ``workspace`` whose secret is ``secret``, or ``None``.

    A token of another workspace, a revoked token and a token whose creator
    is no longer an Agency Owner of the workspace are all refused alike.
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
    )
    if token is None or token.revoked_at is not None:
        return None
    if token.workspace_id != workspace.id:
        logger.warning(
            "API token %s of workspace %s refused in workspace %s",
            token.id,
            token.workspace_id,
            workspace.slug,
        )
        return None
    if not _creator_still_owns(token):
        return None

    now = at or now_utc()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token


def _creator_still_owns(token: ApiToken) -> bool:
    if token.created_by_id is None:
        return False
    role = db.session.scalar(
        select(Membership.role).where(
            Membership.user_id == token.created_by_id,
            Membership.workspace_id == token.workspace_id,
        )
    )
    return role == Role.AGENCY_OWNER
