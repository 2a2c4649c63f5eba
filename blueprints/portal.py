"""The invoice portal: by signed link, or signed in as a Client member."""

from __future__ import annotations

from flask import Blueprint

from clientflow_plugin.access import require_enabled_workspace

URL_PREFIX = "/w/<workspace>/portal"

bp = Blueprint("clientflow_portal", __name__)


@bp.before_request
def _enabled_only():
    require_enabled_workspace()
