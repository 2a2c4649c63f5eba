"""ClientFlow's clients pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("clients", __name__, url_prefix="/clients")
