"""Demo clients."""

from __future__ import annotations

from host_stub.sdk import db

from ..models import Client, ClientStatus

DEMO_CLIENTS = (
    ("Lucía Fernández", "Panadería La Espiga", "ES", ClientStatus.ACTIVE),
    ("Jorge Ramírez", "Ramírez Arquitectos", "MX", ClientStatus.ACTIVE),
    ("Ana Costa", "Costa Surf School", "ES-CN", ClientStatus.PROSPECT),
)


def seed(workspace, rng) -> None:
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
