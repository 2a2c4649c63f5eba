"""A small but real workspace platform that hosts plugins."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from .extensions import babel, csrf, db, login_manager, principal
from .plugins import PluginHost

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 8025,
    "MAIL_TIMEOUT": 10,
    "MAIL_USE_TLS": False,
    "MAIL_DEFAULT_SENDER": "ClientFlow <no-reply@clientflow.example>",
    "DEV_OUTBOX": False,
    "BLOCKED_PLUGINS": "",
    "LANGUAGES": ["en", "es"],
    "BABEL_DEFAULT_LOCALE": "en",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "LOG_LEVEL": "INFO",
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the platform: settings, extensions, host pages, then the plugins."""
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get(
        "FLASK_INSTANCE_PATH"
    )
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env()
    if config:
        app.config.update(config)
    _configure_logging(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI",
        "sqlite:///" + os.path.join(app.instance_path, "workspace.db"),
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)

    db.init_app(app)
    _configure_sqlite(app)
    login_manager.init_app(app)
    principal.init_app(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        timezone_selector=_select_timezone,
    )
    _add_translation_directory(app, Path(__file__).parent / "translations")

    from . import auth, cli, security, views

    auth.init_app(app)
    views.init_app(app)
    security.init_app(app)
    cli.init_app(app)

    plugins = PluginHost()
    app.extensions["workspace_plugins"] = plugins
    blocked = {
        n.strip() for n in str(app.config["BLOCKED_PLUGINS"]).split(",") if n.strip()
    }
    plugins.load_entry_points(blocked)
    for name, module in app.config.get("EXTRA_PLUGINS", {}).items():
        plugins.register(name, module)
    plugins.init_app(app)
    return app


def _configure_logging(app: Flask) -> None:
    """One line per event on stderr, unless the server (gunicorn) set logging up."""
    root = logging.getLogger()
    if not root.handlers and not app.testing:
        logging.basicConfig(
            level=app.config["LOG_LEVEL"],
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


def _instance_secret(app: Flask) -> str:
    """A development secret generated once into the instance folder."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
        logger.info("generated a development secret key in %s", path)
    return path.read_text().strip()


def _configure_sqlite(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()


def _add_translation_directory(app: Flask, path: Path) -> None:
    dirs = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "")
    parts = [p for p in dirs.split(";") if p]
    if str(path) not in parts:
        parts.append(str(path))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(parts)
    # Flask-Babel reads the setting once, in init_app; plugins add theirs later.
    configured = app.extensions.get("babel")
    if configured is not None and str(path) not in configured.translation_directories:
        configured.translation_directories.append(str(path))


def _select_locale() -> str | None:
    from flask import current_app, g, request
    from flask_login import current_user

    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated:
        if current_user.language in languages:
            return current_user.language
    workspace = g.get("workspace")
    if workspace is not None and workspace.language in languages:
        return workspace.language
    if request:
        return request.accept_languages.best_match(languages)
    return None


def _select_timezone() -> str | None:
    from flask import g

    workspace = g.get("workspace")
    return workspace.timezone if workspace is not None else None
