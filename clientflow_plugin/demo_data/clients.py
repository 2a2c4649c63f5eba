"""Demo clients of a Spanish agency with clients in Spain and Latin America.

Three dozen clients in all three statuses, a few archived, with projects in
every status and a history of calls, emails, meetings and notes. Everything
goes through the domain functions, so the demo obeys the same rules as the
pages. Dates count back from today, so the demo always looks recent.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from host_stub.sdk import Membership, db

from ..clients import add_interaction, archive_client, create_client, create_project
from ..clock import today_in, zone
from ..models import ClientStatus, InteractionKind, ProjectStatus

ACTIVE = ClientStatus.ACTIVE
INACTIVE = ClientStatus.INACTIVE
PROSPECT = ClientStatus.PROSPECT

#: One client a line: name | company | region | city | status, then "archived"
#: for the clients the agency has archived.
DEMO_CLIENTS = """
Lucía Fernández | Panadería La Espiga | ES | Madrid | active
Jorge Ramírez | Ramírez Arquitectos | MX | CDMX | active
Ana Costa | Costa Surf School | ES-CN | Las Palmas | prospect
Martín Sosa | Bodega Los Andes | AR | Mendoza | active
Valentina Rojas | Rojas & Asociados | CL | Santiago | active
Carlos Méndez | Clínica Dental Sonrisa | ES | Valencia | active
Camila Torres | Café Montaña | CO | Medellín | active
Diego Herrera | Herrera Logística | MX | Monterrey | inactive | archived
Sofía Navarro | Navarro Interiorismo | ES | Barcelona | active
Mateo Vargas | Vargas Motor | PE | Lima | prospect
Isabel Moreno | Hotel Boutique Alba | ES | Sevilla | active
Andrés Castillo | Fintech Cóndor | CO | Bogotá | active
Paula Jiménez | Escuela de Idiomas Babel | ES | Zaragoza | inactive
Tomás Aguirre | Cervecería Patagonia Sur | AR | Bariloche | active
Elena Ruiz | Farmacia Ruiz | ES | Málaga | active
Gabriel Peña | Peña Fotografía | UY | Montevideo | prospect
Daniela Ortiz | Yoga Ananda | MX | Guadalajara | active
Javier Domínguez | Domínguez Abogados | ES | Bilbao | inactive | archived
Mariana Silva | Silva Cosmética Natural | CL | Valparaíso | active
Álvaro Gil | Gil Construcciones | ES | Murcia | active
Renata Cruz | Cruz Eventos | MX | Puebla | prospect
Pablo Serrano | Librería El Quijote | ES | Toledo | inactive
Ximena Flores | Flores Catering | PE | Arequipa | active
Íñigo Etxeberria | Etxeberria Sidrería | ES | San Sebastián | active
Natalia Romero | Romero Moda | AR | Buenos Aires | active
Sebastián Medina | Medina Tech | CO | Cali | prospect
Carmen Delgado | Quesería Delgado | ES | Cáceres | active
Emiliano Ríos | Ríos Viajes | MX | Cancún | inactive | archived
Lorena Campos | Campos Veterinaria | ES-CN | Tenerife | active
Nicolás Fuentes | Fuentes Inmobiliaria | CL | Concepción | active
Beatriz Ibáñez | Ibáñez Joyería | ES | Córdoba | prospect
Rodrigo Salazar | Salazar Café de Altura | PE | Cusco | active
Florencia Acosta | Acosta Diseño | UY | Punta del Este | inactive
Hugo Martín | Gimnasio Titán | ES | Valladolid | active
Guadalupe León | León Artesanías | MX | Oaxaca | prospect
Raúl Cabrera | Cabrera Náutica | ES | Palma | inactive | archived
"""


PROJECT_NAMES = (
    "Rediseño de la web",
    "Tienda online",
    "Campaña en redes sociales",
    "Identidad de marca",
    "SEO local",
    "Newsletter mensual",
    "Fotografía de producto",
    "Mantenimiento WordPress",
    "Vídeo corporativo",
    "App de reservas",
    "Campaña de Navidad",
    "Landing de lanzamiento",
)

SUMMARIES = {
    InteractionKind.CALL: (
        "Llamada de seguimiento: contentos con el avance.",
        "Preguntan por plazos de la siguiente fase.",
        "Llamada para revisar el presupuesto del trimestre.",
    ),
    InteractionKind.EMAIL: (
        "Enviada la propuesta actualizada.",
        "Compartidas las maquetas para revisión.",
        "Confirmada la fecha de entrega.",
    ),
    InteractionKind.MEETING: (
        "Reunión de arranque con el equipo de marketing.",
        "Presentación de resultados del mes.",
        "Taller de marca en sus oficinas.",
    ),
    InteractionKind.NOTE: (
        "Prefiere que le escribamos por la mañana.",
        "Aprobación de cambios siempre por escrito.",
        "Interesados en ampliar a vídeo el año que viene.",
    ),
}

PHONE_PREFIX = {
    "ES": "+34 6",
    "ES-CN": "+34 6",
    "MX": "+52 55 ",
    "AR": "+54 9 11 ",
    "CL": "+56 9 ",
    "CO": "+57 3",
    "PE": "+51 9",
    "UY": "+598 9",
}


def _ascii(text: str) -> str:
    """Lower-case letters and digits only, for demo email and web addresses."""
    plain = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in plain if c.isascii() and c.isalnum())


def _tax_id(region: str, rng) -> str:
    digits = "".join(str(rng.randrange(10)) for _ in range(8))
    if region.startswith("ES"):
        return f"B{digits}"
    if region == "MX":
        return f"RAR{digits[:6]}A{digits[6:]}"
    if region == "AR":
        return f"30-{digits}-{rng.randrange(10)}"
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:]}-{rng.randrange(10)}"


def _bank_details(region: str, rng) -> str:
    if region.startswith("ES"):
        groups = " ".join(f"{rng.randrange(10000):04d}" for _ in range(5))
        return f"IBAN ES{rng.randrange(10, 99)} {groups}"
    if region == "MX":
        return "CLABE " + "".join(str(rng.randrange(10)) for _ in range(18))
    return "Transferencia internacional; datos en el contrato."


def _owner_id(workspace) -> int | None:
    return db.session.scalar(
        select(Membership.user_id)
        .where(
            Membership.workspace_id == workspace.id,
            Membership.role == "agency_owner",
        )
        .order_by(Membership.id)
        .limit(1)
    )


def seed(workspace, rng) -> None:
    """Add the demo clients, their projects and their interactions."""
    owner_id = _owner_id(workspace)
    today = today_in(workspace)
    tz = zone(workspace)
    for row in DEMO_CLIENTS.strip().splitlines():
        name, company, region, city, status, *archived = (
            cell.strip() for cell in row.split("|")
        )
        first = _ascii(name.split()[0])
        domain = _ascii(company)
        billed = status != PROSPECT
        client = create_client(
            workspace.id,
            {
                "name": name,
                "company": company,
                "email": f"{first}@{domain}.example",
                "phone": PHONE_PREFIX.get(region, "+34 6")
                + " ".join(f"{rng.randrange(1000):03d}" for _ in range(3)),
                "website": f"https://www.{domain}.example",
                "address": f"Calle Mayor {rng.randrange(1, 120)}\n{city}",
                "region": region,
                "status": status,
                "tax_id": _tax_id(region, rng) if billed else "",
                "billing_address": f"{company}\nCalle Mayor {rng.randrange(1, 120)}\n"
                f"{city}"
                if billed
                else "",
                "bank_details": _bank_details(region, rng) if billed else "",
                "billing_notes": "Factura a final de mes."
                if rng.random() < 0.3
                else "",
            },
        )
        client.created_at = datetime.combine(
            today - timedelta(days=rng.randrange(400, 800)), time(9), tzinfo=tz
        )

        if status == ACTIVE:
            project_statuses = [ProjectStatus.ACTIVE] * rng.randrange(1, 4) + [
                rng.choice(list(ProjectStatus)) for _ in range(rng.randrange(0, 3))
            ]
        elif status == INACTIVE:
            project_statuses = [
                rng.choice([ProjectStatus.COMPLETED, ProjectStatus.CANCELLED])
                for _ in range(rng.randrange(1, 3))
            ]
        else:
            project_statuses = []
        for project_name, project_status in zip(
            rng.sample(PROJECT_NAMES, len(project_statuses)),
            project_statuses,
            strict=True,
        ):
            start = today - timedelta(days=rng.randrange(20, 500))
            create_project(
                workspace.id,
                client.id,
                {
                    "name": project_name,
                    "status": project_status,
                    "start_date": start,
                    "end_date": start + timedelta(days=rng.randrange(30, 200))
                    if project_status != ProjectStatus.ACTIVE
                    else None,
                },
            )

        # Recent contact for live clients, long silence for the others; a
        # prospect or two was never contacted at all.
        if status == PROSPECT and rng.random() < 0.3:
            count = 0
        else:
            count = rng.randrange(2, 9) if status == ACTIVE else rng.randrange(1, 4)
        recent = 60 if status != INACTIVE else 400
        for _ in range(count):
            kind = rng.choice(list(InteractionKind))
            day = today - timedelta(days=rng.randrange(1, recent))
            moment = datetime.combine(
                day, time(rng.randrange(9, 19), rng.choice((0, 15, 30, 45))), tz
            ).astimezone(UTC)
            add_interaction(
                workspace.id,
                client.id,
                kind,
                rng.choice(SUMMARIES[kind]),
                occurred_at=moment,
                user_id=owner_id,
            )

        if archived:
            archive_client(workspace.id, client.id)
    db.session.flush()
