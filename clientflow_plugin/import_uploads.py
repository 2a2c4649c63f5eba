"""Files checked on the import page, kept until the owner confirms the import.

The check and the import are two requests that different hosts may serve, so
the checked bytes wait in the database, encrypted with the workspace
platform's ClientFlow keys (they hold tax ids and bank details), under a
random batch key that the confirmation form carries. They are deleted in the
import's own transaction, and any batch older than :data:`KEEP` is purged
whenever a new one is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from cryptography.fernet import InvalidToken
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import clock
from .crypto import fernet
from .imports import Upload
from .models import ImportFile

#: How long checked files wait for their import.
KEEP = timedelta(hours=24)


def stage(
    session: Session, workspace_id: int, uploads: list[Upload], user_id: int | None
) -> str:
    """Keep ``uploads`` for a later import; returns the batch key. Flushes only."""
    session.execute(
        delete(ImportFile).where(ImportFile.uploaded_at < clock.now_utc() - KEEP)
    )
    batch = secrets.token_urlsafe(24)
    keys = fernet()
    for upload in uploads:
        session.add(
            ImportFile(
                workspace_id=workspace_id,
                batch=batch,
                kind=upload.kind,
                filename=upload.filename[:255],
                size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                encrypted_content=keys.encrypt(upload.data),
                uploaded_by_id=user_id,
            )
        )
    session.flush()
    return batch


def staged(session: Session, workspace_id: int, batch: str) -> list[Upload] | None:
    """The files of ``batch`` in ``workspace_id``, or None when gone or expired."""
    rows = session.scalars(
        select(ImportFile)
        .where(
            ImportFile.workspace_id == workspace_id,
            ImportFile.batch == batch,
            ImportFile.uploaded_at >= clock.now_utc() - KEEP,
        )
        .order_by(ImportFile.id)
    ).all()
    if not rows:
        return None
    keys = fernet()
    uploads = []
    for row in rows:
        try:
            data = keys.decrypt(row.encrypted_content)
        except InvalidToken:
            return None  # written with a key no longer configured
        if hashlib.sha256(data).hexdigest() != row.sha256:
            return None
        uploads.append(Upload(row.kind, row.filename, data))
    return uploads


def discard(session: Session, workspace_id: int, batch: str) -> None:
    """Forget ``batch``; takes effect with the caller's commit."""
    session.execute(
        delete(ImportFile).where(
            ImportFile.workspace_id == workspace_id, ImportFile.batch == batch
        )
    )
