"""Demo clients of a Spanish agency with clients in Spain and Latin America.

Three dozen clients in all three statuses, a few archived, with projects in
every status and a history of calls, emails, meetings and notes. Everything
goes through the domain functions, so the demo obeys the same rules as the
pages. Dates count back from today, so the demo always looks recent.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from host_stub.sdk import Membership, db

from ..clients import add_interaction, archive_client, create_client, create_project
from ..clock import today_in, zone
from ..models import ClientStatus, InteractionKind, ProjectStatus

ACTIVE = ClientStatus.ACTIVE
INACTIVE = ClientStatus.INACTIVE
PROSPECT = ClientStatus.PROSPECT

#: name, company, web domain, region, city, status, archived
DEMO_CLIENTS = (
    ("Lucía Fernández", "Panadería La Espiga", "laespiga", "ES", "Madrid", ACTIVE, 0),
    ("Jorge Ramírez", "Ramírez Arquitectos", "ramirezarq", "MX", "CDMX", ACTIVE, 0),
    ("Ana Costa", "Costa Surf School", "costasurf", "ES-CN", "Las Palmas", PROSPECT, 0),
    ("Martín Sosa", "Bodega Los Andes", "losandes", "AR", "Mendoza", ACTIVE, 0),
    (
        "Valentina Rojas",
        "Rojas & Asociados",
        "rojasabogados",
        "CL",
        "Santiago",
        ACTIVE,
        0,
    ),
    ("Carlos Méndez", "Clínica Dental Sonrisa", "sonrisa", "ES", "Valencia", ACTIVE, 0),
    ("Camila Torres", "Café Montaña", "cafemontana", "CO", "Medellín", ACTIVE, 0),
    (
        "Diego Herrera",
        "Herrera Logística",
        "herreralog",
        "MX",
        "Monterrey",
        INACTIVE,
        1,
    ),
    (
        "Sofía Navarro",
        "Navarro Interiorismo",
        "navarrodeco",
        "ES",
        "Barcelona",
        ACTIVE,
        0,
    ),
    ("Mateo Vargas", "Vargas Motor", "vargasmotor", "PE", "Lima", PROSPECT, 0),
    ("Isabel Moreno", "Hotel Boutique Alba", "hotelalba", "ES", "Sevilla", ACTIVE, 0),
    ("Andrés Castillo", "Fintech Cóndor", "condorpay", "CO", "Bogotá", ACTIVE, 0),
    (
        "Paula Jiménez",
        "Escuela de Idiomas Babel",
        "babelidiomas",
        "ES",
        "Zaragoza",
        INACTIVE,
        0,
    ),
    (
        "Tomás Aguirre",
        "Cervecería Patagonia Sur",
        "patagoniasur",
        "AR",
        "Bariloche",
        ACTIVE,
        0,
    ),
    ("Elena Ruiz", "Farmacia Ruiz", "farmaciaruiz", "ES", "Málaga", ACTIVE, 0),
    ("Gabriel Peña", "Peña Fotografía", "penafoto", "UY", "Montevideo", PROSPECT, 0),
    ("Daniela Ortiz", "Yoga Ananda", "yogaananda", "MX", "Guadalajara", ACTIVE, 0),
    (
        "Javier Domínguez",
        "Domínguez Abogados",
        "dominguezlegal",
        "ES",
        "Bilbao",
        INACTIVE,
        1,
    ),
    (
        "Mariana Silva",
        "Silva Cosmética Natural",
        "silvanatural",
        "CL",
        "Valparaíso",
        ACTIVE,
        0,
    ),
    ("Álvaro Gil", "Gil Construcciones", "gilconstruye", "ES", "Murcia", ACTIVE, 0),
    ("Renata Cruz", "Cruz Eventos", "cruzeventos", "MX", "Puebla", PROSPECT, 0),
    ("Pablo Serrano", "Librería El Quijote", "elquijote", "ES", "Toledo", INACTIVE, 0),
    ("Ximena Flores", "Flores Catering", "florescatering", "PE", "Arequipa", ACTIVE, 0),
    (
        "Íñigo Etxeberria",
        "Etxeberria Sidrería",
        "etxesidra",
        "ES",
        "San Sebastián",
        ACTIVE,
        0,
    ),
    ("Natalia Romero", "Romero Moda", "romeromoda", "AR", "Buenos Aires", ACTIVE, 0),
    ("Sebastián Medina", "Medina Tech", "medinatech", "CO", "Cali", PROSPECT, 0),
    (
        "Carmen Delgado",
        "Quesería Delgado",
        "queseriadelgado",
        "ES",
        "Cáceres",
        ACTIVE,
        0,
    ),
    ("Emiliano Ríos", "Ríos Viajes", "riosviajes", "MX", "Cancún", INACTIVE, 1),
    (
        "Lorena Campos",
        "Campos Veterinaria",
        "camposvet",
        "ES-CN",
        "Tenerife",
        ACTIVE,
        0,
    ),
    (
        "Nicolás Fuentes",
        "Fuentes Inmobiliaria",
        "fuentesinmo",
        "CL",
        "Concepción",
        ACTIVE,
        0,
    ),
    ("Beatriz Ibáñez", "Ibáñez Joyería", "ibanezjoyas", "ES", "Córdoba", PROSPECT, 0),
    (
        "Rodrigo Salazar",
        "Salazar Café de Altura",
        "salazarcafe",
        "PE",
        "Cusco",
        ACTIVE,
        0,
    ),
    (
        "Florencia Acosta",
        "Acosta Diseño",
        "acostadiseno",
        "UY",
        "Punta del Este",
        INACTIVE,
        0,
    ),
    ("Hugo Martín", "Gimnasio Titán", "gymtitan", "ES", "Valladolid", ACTIVE, 0),
    (
        "Guadalupe León",
        "León Artesanías",
        "leonartesanias",
        "MX",
        "Oaxaca",
        PROSPECT,
        0,
    ),
    ("Raúl Cabrera", "Cabrera Náutica", "cabreranautica", "ES", "Palma", INACTIVE, 1),
)

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
    for name, company, domain, region, city, status, archived in DEMO_CLIENTS:
        first = name.split()[0].lower().translate(str.maketrans("áéíóúñ", "aeioun"))
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
