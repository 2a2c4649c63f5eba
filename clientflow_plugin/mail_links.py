"""Absolute links in mails sent outside a request (cron).

A request gives Flask the public address to build absolute URLs from; the
cron commands push one from ``CLIENTFLOW_BASE_URL``. Without either, mails
are sent without a portal link rather than with a wrong one.
"""

from __future__ import annotations

from flask import current_app, has_request_context


def can_build_links() -> bool:
    """Whether absolute URLs can be built right now."""
    return has_request_context() or bool(current_app.config.get("SERVER_NAME"))
