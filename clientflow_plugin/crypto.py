"""Encryption at rest of billing details with Fernet keys from the configuration.

``CLIENTFLOW_ENCRYPTION_KEYS`` holds one or more comma-separated Fernet keys,
newest first: values are written with the first and read with any of them,
so a new key can be put in front before ``flask clientflow rotate-key``
re-encrypts the old values.

At start the keys are tried on values already stored, so a missing or wrong
key stops ClientFlow with a message that says what to do, before any request
could write with it. Nothing is ever rewritten at start.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import Text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from host_stub.sdk import db

logger = logging.getLogger(__name__)

CONFIG_KEY = "CLIENTFLOW_ENCRYPTION_KEYS"
DEV_KEY_FILE = "clientflow-fernet.key"
EXTENSION = "clientflow_fernet"
KEYS_EXTENSION = "clientflow_fernet_keys"
ERROR_EXTENSION = "clientflow_key_error"
TABLE_PREFIX = "clientflow_"


class EncryptionKeyError(RuntimeError):
    """The configured keys are missing or cannot read the stored data."""


@dataclass(frozen=True)
class EncryptedColumn:
    """One column of a ClientFlow table stored through ``EncryptedText``."""

    table: str
    column: str
    primary_key: str
    #: The column naming the row's workspace, when the table has one.
    workspace_column: str | None = None
    #: Tokens kept as bytes rather than text.
    binary: bool = False

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}"


def parse_keys(value: str | list[str] | None) -> list[Fernet]:
    """The Fernet keys of a configuration value, newest first."""
    if not value:
        return []
    raw = value.split(",") if isinstance(value, str) else list(value)
    keys = []
    for position, key in enumerate(k.strip() for k in raw if k.strip()):
        try:
            keys.append(Fernet(key.encode()))
        except (ValueError, TypeError) as exc:
            raise EncryptionKeyError(
                f"{CONFIG_KEY}: key number {position + 1} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes); generate one with "
                "`flask clientflow generate-key`"
            ) from exc
    return keys


def configure(app: Flask) -> MultiFernet:
    """Load the keys and check them against the stored data.

    A development key is created once when none is configured and no
    encrypted value is stored yet; it is never replaced. Raises
    ``EncryptionKeyError`` (which keeps ClientFlow from starting) when the
    keys are missing or cannot decrypt what is already stored.
    """
    for name in (EXTENSION, KEYS_EXTENSION, ERROR_EXTENSION):
        app.extensions.pop(name, None)
    try:
        keys = parse_keys(app.config.get(CONFIG_KEY))
        source = CONFIG_KEY
        if not keys:
            keys = [_development_key(app)]
            source = str(Path(app.instance_path) / DEV_KEY_FILE)
        multi = MultiFernet(keys)
        check_stored_values(app, multi, source)
    except EncryptionKeyError as exc:
        # Kept so that commands can repeat the reason instead of a KeyError.
        app.extensions[ERROR_EXTENSION] = str(exc)
        raise
    app.extensions[EXTENSION] = multi
    app.extensions[KEYS_EXTENSION] = tuple(keys)
    return multi


def _development_allowed(app: Flask) -> bool:
    return bool(app.debug or app.testing or app.config.get("CLIENTFLOW_DEV_KEY"))


def _development_key(app: Flask) -> Fernet:
    path = Path(app.instance_path) / DEV_KEY_FILE
    if not _development_allowed(app):
        raise EncryptionKeyError(
            f"{CONFIG_KEY} is not set, so ClientFlow did not start. Set it to one "
            "or more Fernet keys, newest first (`flask clientflow generate-key` "
            "prints a new one); or set FLASK_CLIENTFLOW_DEV_KEY=1 to use a "
            "development key kept in the instance folder."
        )
    if not path.exists():
        try:
            stored = first_stored_value(app)
        except SQLAlchemyError as exc:
            raise EncryptionKeyError(
                f"the development key file {path} is missing and the database "
                "cannot be reached to check that no encrypted value depends on "
                "it; start again when the database is reachable."
            ) from exc
        if stored is not None:
            # A new key could never read these values: the old key was lost.
            raise EncryptionKeyError(
                f"the development key file {path} is missing but "
                f"{stored.label} holds encrypted values, so ClientFlow did not "
                "start and nothing was changed. Restore the file from a backup, "
                f"or set {CONFIG_KEY} to the key the data was written with."
            )
        _create_key_file(path)
    try:
        return Fernet(path.read_bytes().strip())
    except (ValueError, TypeError) as exc:
        raise EncryptionKeyError(
            f"{path} does not hold a valid Fernet key, so ClientFlow did not "
            "start. Restore it from a backup; it is never regenerated, because "
            "data written with it would be lost."
        ) from exc


def _create_key_file(path: Path) -> None:
    """Write a new key file unless another process wins the race to it."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
        # link() refuses an existing name, so a key is never overwritten.
        os.link(temporary, path)
        logger.info("generated a development encryption key in the instance folder")
    except FileExistsError:
        logger.info("development encryption key created by another process")
    finally:
        temporary.unlink(missing_ok=True)


def fernet() -> MultiFernet:
    """The keys of the current app; a clear error when they failed to load."""
    keys = current_app.extensions.get(EXTENSION)
    if keys is None:
        reason = current_app.extensions.get(ERROR_EXTENSION, "keys not loaded")
        raise EncryptionKeyError(f"ClientFlow's encryption keys are unusable: {reason}")
    return keys


def newest_key() -> Fernet:
    """The key new values are written with: the first of the configuration."""
    fernet()
    return current_app.extensions[KEYS_EXTENSION][0]


def key_count() -> int:
    fernet()
    return len(current_app.extensions[KEYS_EXTENSION])


def encrypted_columns() -> list[EncryptedColumn]:
    """Every encrypted column of ClientFlow's tables, in a stable order.

    That is every ``EncryptedText`` column, and every binary column whose
    ``info`` carries ``{"fernet": True}`` (Fernet tokens kept as bytes).
    """
    found = []
    for table in db.metadata.sorted_tables:
        if not table.name.startswith(TABLE_PREFIX):
            continue
        primary = list(table.primary_key.columns)
        if len(primary) != 1:
            continue
        workspace = "workspace_id" if "workspace_id" in table.c else None
        for column in table.columns:
            binary = bool(column.info.get("fernet"))
            if isinstance(column.type, EncryptedText) or binary:
                found.append(
                    EncryptedColumn(
                        table.name, column.name, primary[0].name, workspace, binary
                    )
                )
    return found


def raw_table(col: EncryptedColumn) -> sa.TableClause:
    """The column as stored, so values are read and written untouched."""
    stored = sa.LargeBinary if col.binary else Text
    columns = [sa.column(col.primary_key, sa.Integer), sa.column(col.column, stored)]
    if col.workspace_column and col.workspace_column != col.primary_key:
        columns.append(sa.column(col.workspace_column, sa.Integer))
    return sa.table(col.table, *columns)


def token_of(value: str | bytes) -> bytes:
    """A stored value as the Fernet token it is."""
    return value if isinstance(value, bytes) else value.encode("ascii")


def _present_columns(connection) -> list[EncryptedColumn]:
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    present = []
    for col in encrypted_columns():
        if col.table not in tables:
            continue
        names = {c["name"] for c in inspector.get_columns(col.table)}
        if col.column in names:
            present.append(col)
    return present


def _samples(connection, col: EncryptedColumn) -> list[str | bytes]:
    """The oldest and newest stored value of a column: likely the oldest keys."""
    table = raw_table(col)
    value, pk = table.c[col.column], table.c[col.primary_key]
    found = []
    empty = b"" if col.binary else ""
    for order in (pk.asc(), pk.desc()):
        raw = connection.execute(
            sa.select(value)
            .where(value.is_not(None), value != empty)
            .order_by(order)
            .limit(1)
        ).scalar()
        if raw is not None and raw not in found:
            found.append(raw)
    return found


def first_stored_value(app: Flask) -> EncryptedColumn | None:
    """The first encrypted column that holds a value, or None.

    Raises ``SQLAlchemyError`` when the database cannot be reached.
    """
    with app.app_context(), db.engine.connect() as connection:
        for col in _present_columns(connection):
            if _samples(connection, col):
                return col
    return None


def check_stored_values(app: Flask, keys: MultiFernet, source: str) -> int:
    """Decrypt a sample of each encrypted column; raise if the keys cannot.

    Returns the number of values tried. A database that cannot be reached or
    has no tables yet is not an error here: there is nothing to protect.
    """
    tried = 0
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                for col in _present_columns(connection):
                    for raw in _samples(connection, col):
                        tried += 1
                        try:
                            keys.decrypt(token_of(raw))
                        except (InvalidToken, UnicodeEncodeError) as exc:
                            raise EncryptionKeyError(
                                _wrong_key_message(col, source)
                            ) from exc
        except SQLAlchemyError:
            logger.warning("database not reachable; stored values not checked")
    return tried


def _wrong_key_message(col: EncryptedColumn, source: str) -> str:
    return (
        f"the encryption keys from {source} cannot decrypt the values already "
        f"stored in {col.label}, so ClientFlow did not start and nothing was "
        f"changed. Put the key the data was written with back into {CONFIG_KEY} "
        "(a new key goes first, the old ones after it), start again, then run "
        "`flask clientflow rotate-key` to move every value to the new key."
    )


class EncryptedText(TypeDecorator):
    """Text encrypted with the workspace platform's ClientFlow keys."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect):
        if value is None or value == "":
            return value
        return fernet().encrypt(value.encode("utf-8")).decode("ascii")

    def process_result_value(self, value: str | None, dialect):
        if value is None or value == "":
            return value
        try:
            return fernet().decrypt(value.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise EncryptionKeyError(
                "a stored value cannot be decrypted with the configured keys; "
                f"add the key it was written with to {CONFIG_KEY}"
            ) from exc
