"""Assembling ClientFlow's blueprints under the one guard."""

from __future__ import annotations

from importlib import import_module
from importlib.resources import files

from flask import Blueprint, Flask

from host_stub.sdk import register_blueprint

from .access import require_owner

#: Child blueprints of ``clientflow``, all behind ``require_owner``; each
#: module under ``clientflow_plugin.blueprints`` exposes ``bp``.
GUARDED_MODULES = (
    "dashboard",
    "clients",
    "billing",
    "sending",
    "recurring",
    "pipeline",
    "imports",
    "integrations",
    "api",
)

#: Blueprints with their own access rules (portal links, client members).
OPEN_MODULES = ("portal",)

URL_PREFIX = "/w/<workspace>/clientflow"


def build_blueprint() -> Blueprint:
    parent = Blueprint(
        "clientflow",
        __name__,
        template_folder=str(files("clientflow_plugin.templates")),
    )
    parent.before_request(require_owner)
    for name in GUARDED_MODULES:
        module = import_module(f"clientflow_plugin.blueprints.{name}")
        parent.register_blueprint(module.bp)
    return parent


def register_blueprints(app: Flask) -> None:
    register_blueprint(app, build_blueprint(), URL_PREFIX)
    static = Blueprint(
        "clientflow_static",
        __name__,
        static_folder=str(files("clientflow_plugin") / "static"),
        static_url_path="/static",
    )
    register_blueprint(app, static, "/_plugins/clientflow")
    for name in OPEN_MODULES:
        module = import_module(f"clientflow_plugin.blueprints.{name}")
        register_blueprint(app, module.bp, module.URL_PREFIX)
