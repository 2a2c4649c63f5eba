"""Demo data of a realistic agency, filled by ``flask seed-demo``."""

from __future__ import annotations

import logging

from host_stub.sdk import db

from .models import Client, ClientStatus
from .setup import ensure_workspace_defaults

logger = logging.getLogger(__name__)

DEMO_CLIENTS = (
    ("Lucía Fernández", "Panadería La Espiga", "ES", ClientStatus.ACTIVE),
    ("Jorge Ramírez", "Ramírez Arquitectos", "MX", ClientStatus.ACTIVE),
    ("Ana Costa", "Costa Surf School", "ES-CN", ClientStatus.PROSPECT),
)


def seed(workspace) -> None:
    ensure_workspace_defaults(workspace)
    for name, company, region, status in DEMO_CLIENTS:
        db.session.add(
            Client(
                workspace_id=workspace.id,
                name=name,
                company=company,
                region=region,
                status=status,
            )
        )
    db.session.commit()
    logger.info("ClientFlow demo data seeded in workspace %s", workspace.slug)
