"""The ClientFlow landing page: the four cards and three charts."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("dashboard", __name__)


@bp.route("/")
def index():
    return render_template("clientflow/dashboard.html")
