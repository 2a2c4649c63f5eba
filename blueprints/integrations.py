"""ClientFlow's integrations pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("integrations", __name__, url_prefix="/integrations")
