"""Re-encrypting every stored billing detail under the newest key.

Rotation is done in batches of rows, each committed on its own, so it can be
stopped and started again: values already under the newest key are left as
they are. A value is only replaced if nobody changed it since it was read,
so rotation can run while the app is serving.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from sqlalchemy import select

from host_stub.sdk import db

from . import audit, crypto
from .models import Settings

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 500

#: progress(column label, values looked at so far in that column)
Progress = Callable[[str, int], None]


@dataclass
class RotationResult:
    rotated: int = 0
    already_current: int = 0
    #: Values changed by someone else while they were being rotated; those
    #: were written by the app, so they are under the newest key already.
    changed_meanwhile: int = 0
    per_workspace: Counter = field(default_factory=Counter)
    columns: int = 0


def rotate_all(
    *,
    batch_size: int = DEFAULT_BATCH,
    actor_id: int | None = None,
    progress: Progress | None = None,
) -> RotationResult:
    """Re-encrypt every encrypted value under the first configured key.

    Raises ``crypto.EncryptionKeyError`` when a value cannot be decrypted with
    any configured key; the batches committed before stay readable.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    keys = crypto.fernet()
    newest = crypto.newest_key()
    result = RotationResult()

    for col in crypto.encrypted_columns():
        result.columns += 1
        _rotate_column(col, keys, newest, batch_size, result, progress)

    _record(result, actor_id)
    db.session.commit()
    logger.info("key rotated: %d values", result.rotated)
    return result


def _rotate_column(col, keys, newest, batch_size, result, progress) -> None:
    table = crypto.raw_table(col)
    pk, value = table.c[col.primary_key], table.c[col.column]
    workspace = table.c[col.workspace_column] if col.workspace_column else None
    wanted = [pk, value] + ([workspace] if workspace is not None else [])
    last, seen = None, 0
    while True:
        empty = b"" if col.binary else ""
        query = select(*wanted).where(value.is_not(None), value != empty)
        if last is not None:
            query = query.where(pk > last)
        with db.engine.begin() as connection:
            rows = connection.execute(query.order_by(pk).limit(batch_size)).all()
            for row in rows:
                _rotate_value(connection, table, col, row, keys, newest, result)
        if not rows:
            break
        last = rows[-1][0]
        seen += len(rows)
        if progress is not None:
            progress(col.label, seen)


def _rotate_value(connection, table, col, row, keys, newest, result) -> None:
    pk, value = table.c[col.primary_key], table.c[col.column]
    row_id, raw = row[0], row[1]
    token = crypto.token_of(raw)
    try:
        newest.decrypt(token)
    except InvalidToken:
        pass
    else:
        result.already_current += 1
        return
    try:
        fresh = keys.rotate(token)
    except InvalidToken as exc:
        raise crypto.EncryptionKeyError(
            f"{col.label} of row {row_id} cannot be decrypted with any configured "
            f"key; add the key it was written with to {crypto.CONFIG_KEY} and run "
            "the rotation again (values rotated so far stay readable)"
        ) from exc
    if not col.binary:
        fresh = fresh.decode("ascii")
    # Compare-and-set: a value the app rewrote meanwhile is already current.
    changed = connection.execute(
        sa.update(table).where(pk == row_id, value == raw).values({value: fresh})
    ).rowcount
    if changed != 1:
        result.changed_meanwhile += 1
        return
    result.rotated += 1
    if col.workspace_column:
        result.per_workspace[row[-1] if len(row) > 2 else row_id] += 1


def _record(result: RotationResult, actor_id: int | None) -> None:
    """One audit event per workspace that uses ClientFlow, with its count."""
    workspaces = set(db.session.scalars(select(Settings.workspace_id)))
    workspaces |= set(result.per_workspace)
    for workspace_id in sorted(workspaces):
        audit.record(
            workspace_id,
            "key_rotated",
            user_id=actor_id,
            detail=(
                f"{result.per_workspace.get(workspace_id, 0)} values re-encrypted "
                "under the newest key"
            ),
        )
