"""What every URL of the app expects from each kind of caller.

The sweeps in ``tests/host/test_url_sweep.py`` enumerate the URL map and use
these rules; an endpoint that matches none of them fails the sweep, so a new
route cannot go unchecked.
"""

from __future__ import annotations

#: Endpoints open to anyone (log-in, health check, static files).
PUBLIC = {"auth.login", "host.healthz", "static", "clientflow_static.static"}

#: Host pages that need a log-in but no workspace.
ACCOUNT = {"host.home", "host.account", "auth.logout"}

#: Host pages for platform admins only.
ADMIN = {"host.admin_plugins", "host.outbox"}

#: Prefix of every endpoint behind ClientFlow's owner guard.
GUARDED_PREFIX = "clientflow."

#: Prefix of ClientFlow's own-rule endpoints (portal links, client members);
#: each has tests of its own in tests/clientflow/test_portal*.py.
OPEN_PREFIX = "clientflow_portal."


def kind_of(endpoint: str) -> str:
    if endpoint in PUBLIC:
        return "public"
    if endpoint in ACCOUNT:
        return "account"
    if endpoint in ADMIN:
        return "admin"
    if endpoint.startswith(GUARDED_PREFIX):
        return "guarded"
    if endpoint.startswith(OPEN_PREFIX):
        return "open"
    if endpoint.startswith("host."):
        return "workspace"
    return "unknown"
