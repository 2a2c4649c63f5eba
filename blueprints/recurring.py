"""ClientFlow's recurring pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("recurring", __name__, url_prefix="/recurring")
