"""Encryption at rest of billing details with Fernet keys from the configuration.

``CLIENTFLOW_ENCRYPTION_KEYS`` holds one or more comma-separated Fernet keys,
newest first: values are written with the first and read with any of them,
so a new key can be put in front before ``flask clientflow rotate-key``
re-encrypts the old values.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

CONFIG_KEY = "CLIENTFLOW_ENCRYPTION_KEYS"
DEV_KEY_FILE = "clientflow-fernet.key"


class EncryptionKeyError(RuntimeError):
    """The configured keys are missing or cannot read the stored data."""


def parse_keys(value: str | list[str] | None) -> list[Fernet]:
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
    """Load the keys, creating a development key once; never replace one."""
    keys = parse_keys(app.config.get(CONFIG_KEY))
    if not keys:
        if not (app.debug or app.testing or app.config.get("CLIENTFLOW_DEV_KEY")):
            raise EncryptionKeyError(
                f"{CONFIG_KEY} is not set. Set it to one or more Fernet keys "
                "(newest first), e.g. from `flask clientflow generate-key`; "
                "or set FLASK_CLIENTFLOW_DEV_KEY=1 to use a development key "
                "kept in the instance folder."
            )
        keys = [_development_key(app)]
    fernet = MultiFernet(keys)
    app.extensions["clientflow_fernet"] = fernet
    return fernet


def _development_key(app: Flask) -> Fernet:
    path = Path(app.instance_path) / DEV_KEY_FILE
    if not path.exists():
        path.write_bytes(Fernet.generate_key())
        path.chmod(0o600)
        logger.info("generated a development encryption key in the instance folder")
    try:
        return Fernet(path.read_bytes().strip())
    except (ValueError, TypeError) as exc:
        raise EncryptionKeyError(
            f"{path} does not hold a valid Fernet key. Restore it from a backup; "
            "it is never regenerated, because data written with it would be lost."
        ) from exc


def fernet() -> MultiFernet:
    return current_app.extensions["clientflow_fernet"]


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
