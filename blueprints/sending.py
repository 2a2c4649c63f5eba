"""ClientFlow's sending pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sending", __name__, url_prefix="/sending")
