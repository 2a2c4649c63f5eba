"""Demo data of a realistic agency, filled by ``flask seed-demo``.

Each area seeds its own part, in an order where later parts can use the
earlier ones (billing bills the clients, partly through templates; the
reminders follow up what is overdue; the pipeline wins some of the clients).
"""

from __future__ import annotations

import logging
import random
from importlib import import_module

from host_stub.sdk import db

from .setup import ensure_workspace_defaults

logger = logging.getLogger(__name__)

#: Modules under ``clientflow_plugin.demo_data`` with a ``seed(workspace, rng)``.
PARTS = ("clients", "billing", "recurring", "pipeline")


def seed(workspace, *, rng_seed: int = 2026) -> None:
    ensure_workspace_defaults(workspace)
    rng = random.Random(rng_seed)
    for part in PARTS:
        import_module(f"clientflow_plugin.demo_data.{part}").seed(workspace, rng)
        db.session.commit()
    logger.info("ClientFlow demo data seeded in workspace %s", workspace.slug)
