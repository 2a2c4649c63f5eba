"""ClientFlow's pipeline pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pipeline", __name__, url_prefix="/pipeline")
