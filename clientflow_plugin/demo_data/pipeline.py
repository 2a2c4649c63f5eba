"""Demo pipeline: opportunities in every stage, with their stage histories.

Some opportunities belong to the demo clients (whatever clients the demo has
by the time this part runs), the others are free-name prospects. Follow-ups
fall before, within and after the coming week; closed opportunities carry
their closing dates and, when lost, a reason from the workspace's list.
Everything follows from ``rng`` and the workspace's date.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from host_stub.sdk import Membership, Role, db

from .. import pipeline
from ..clock import today_in, zone
from ..models import OPEN_STAGES, Client, LostReason, Stage
from ..money import exponent

#: Free-name prospects: contact, company, what the agency would do for them.
PROSPECTS = (
    ("Carmen Ortiz", "Bodegas Ortiz", "Rediseño de la tienda online"),
    ("Pablo Navarro", "Clínica Dental Sonrisa", "Web con reserva de citas online"),
    ("Elena Ruiz", "Hotel Mirador del Puerto", "Campaña de temporada alta"),
    ("Diego Morales", "Morales Abogados", "Identidad corporativa"),
    ("Sofía Castro", "Yoga Shala Valencia", "App de reserva de clases"),
    ("Andrés Vidal", "Cervecería La Fábrica", "Marca y packaging"),
    ("Lucía Romero", "Fundación Mar Abierto", "Web institucional accesible"),
    ("Tomás Herrera", "Herrera Motor", "SEO local y anuncios"),
    ("Nuria Blanco", "Estudio Blanco Interiorismo", "Portfolio y blog"),
    ("Irene Santos", "Escuela de Idiomas Babel", "Plataforma de cursos"),
    ("Marcos León", "Gimnasio Fuerza", "Campaña de captación de socios"),
    ("Rosa Iglesias", "Iglesias & Hijas Conservas", "Web de catálogo para exportación"),
    ("Javier Prieto", "Prieto Reformas", "Landings de captación de clientes"),
    ("Alba Gómez", "Floristería Alba", "Tienda online con reparto local"),
    ("Hugo Serrano", "Serrano Logística", "Portal de clientes"),
    ("Paula Medina", "Medina Fisioterapia", "Web y perfil de empresa en Google"),
    ("Sergio Campos", "Velas del Sur", "Catálogo para mayoristas"),
    ("Laura Peña", "Peña Arquitectura", "Web con galería de proyectos"),
    ("Óscar Fuentes", "Fuentes Café", "App de fidelización"),
    ("Beatriz Molina", "Molina Eventos", "Landings de eventos"),
    ("Ricardo Vega", "Vega Óptica", "Reserva de citas"),
)

#: Work proposed to existing clients.
CLIENT_WORK = (
    "Segunda fase de la web",
    "Renovación de la cuota mensual",
    "Actualización de la marca",
    "Newsletter y automatizaciones",
    "Fotografía de producto",
)

#: The final stage of each demo opportunity, in board order.
PLAN = (
    Stage.PROSPECT,
    Stage.PROSPECT,
    Stage.PROSPECT,
    Stage.QUALIFIED,
    Stage.QUALIFIED,
    Stage.QUALIFIED,
    Stage.PROPOSAL,
    Stage.PROPOSAL,
    Stage.PROPOSAL,
    Stage.PROPOSAL,
    Stage.NEGOTIATION,
    Stage.NEGOTIATION,
    Stage.NEGOTIATION,
    Stage.WON,
    Stage.WON,
    Stage.WON,
    Stage.LOST,
    Stage.LOST,
    Stage.LOST,
    Stage.LOST,
    Stage.LOST,
)

NEXT_STEPS = (
    "Llamada para repasar el presupuesto",
    "Enviar dos casos de éxito",
    "Reunión con el equipo de marketing",
    "Esperar la decisión de la dirección",
    "Compartir el calendario revisado",
    "Demostración del proceso de reserva",
)

MET_AT = "Nos conocimos en el desayuno de la Cámara de Comercio."

OTHER_NOTES = (
    "Han decidido hacerlo con su propio equipo.",
    "El proyecto se ha cancelado.",
)


def _owner_id(workspace) -> int | None:
    return db.session.scalar(
        select(Membership.user_id).where(
            Membership.workspace_id == workspace.id,
            Membership.role == Role.AGENCY_OWNER,
        )
    )


def _moment(workspace, day, rng) -> datetime:
    """A working-hours moment of ``day`` in the workspace's zone, as UTC."""
    local = datetime.combine(day, time(rng.randint(9, 18), rng.choice((0, 15, 30))))
    return local.replace(tzinfo=zone(workspace)).astimezone(UTC)


def seed(workspace, rng) -> None:
    """Fill the demo workspace's pipeline; commits through the domain."""
    today = today_in(workspace)
    owner_id = _owner_id(workspace)
    clients = db.session.scalars(
        select(Client)
        .where(Client.workspace_id == workspace.id, Client.archived.is_(False))
        .order_by(Client.id)
    ).all()
    reasons = db.session.scalars(
        select(LostReason)
        .where(LostReason.workspace_id == workspace.id, LostReason.archived.is_(False))
        .order_by(LostReason.id)
    ).all()
    prospects = list(PROSPECTS)
    rng.shuffle(prospects)
    free = iter(prospects)
    chosen = rng.sample(list(clients), k=min(len(clients), 5))
    linked = rng.sample(range(len(PLAN)), k=len(chosen))

    for index, final in enumerate(PLAN):
        path = _path_to(final, rng)
        created_on = today - timedelta(days=rng.randint(20, 150))
        fields = _prospect_fields(index, linked, chosen, free, rng)
        value = rng.randrange(1_500, 42_000, 250) * 10 ** exponent(workspace.currency)
        opportunity = pipeline.create_opportunity(
            workspace,
            actor_id=owner_id,
            stage=path[0],
            value_minor=value,
            next_step=rng.choice(NEXT_STEPS) if final in OPEN_STAGES else "",
            next_follow_up=_follow_up(final, today, rng),
            notes=MET_AT if index == 4 else "",
            at=_moment(workspace, created_on, rng),
            **fields,
        )
        days = _walk(
            workspace, opportunity, path, created_on, today, reasons, rng, owner_id
        )
        if Stage.PROPOSAL in days:
            pipeline.update_opportunity(
                opportunity,
                actor_id=owner_id,
                proposal_url=f"https://proposals.example/{workspace.slug}/{index + 1}",
                proposal_sent_on=days[Stage.PROPOSAL],
            )
        if final in OPEN_STAGES and rng.random() < 0.3:
            # The owner's own estimate, kept across later moves.
            pipeline.update_opportunity(
                opportunity,
                actor_id=owner_id,
                probability=min(95, opportunity.probability + rng.choice((5, 10))),
            )
    db.session.commit()


def _path_to(final: Stage, rng) -> list[Stage]:
    """The stages an opportunity went through to reach ``final``."""
    if final in OPEN_STAGES:
        return list(OPEN_STAGES[: OPEN_STAGES.index(final) + 1])
    # Most losses come once a proposal is on the table.
    lost_at = (Stage.PROSPECT, Stage.QUALIFIED) + (
        Stage.PROPOSAL,
        Stage.NEGOTIATION,
    ) * 2
    last = Stage.NEGOTIATION if final == Stage.WON else rng.choice(lost_at)
    # Some opportunities arrive already qualified (a referral, an inbound call).
    first = min(rng.choice((0, 1)), OPEN_STAGES.index(last))
    return list(OPEN_STAGES[first : OPEN_STAGES.index(last) + 1]) + [final]


def _prospect_fields(index, linked, clients, free, rng) -> dict:
    if index in linked:
        client = clients[linked.index(index)]
        return {"client_id": client.id, "title": rng.choice(CLIENT_WORK)}
    name, company, title = next(free)
    return {"prospect_name": name, "prospect_company": company, "title": title}


def _follow_up(final: Stage, today, rng):
    if final not in OPEN_STAGES:
        return None
    roll = rng.random()
    if roll < 0.25:
        return today - timedelta(days=rng.randint(1, 9))
    if roll < 0.65:
        return today + timedelta(days=rng.randint(0, 6))
    if roll < 0.9:
        return today + timedelta(days=rng.randint(7, 30))
    return None


def _walk(workspace, opportunity, path, created_on, today, reasons, rng, owner_id):
    """Move the opportunity along ``path`` on past dates; the day of each stage."""
    span = (today - created_on).days
    steps = len(path) - 1
    days = {path[0]: created_on}
    for number, stage in enumerate(path[1:], start=1):
        day = created_on + timedelta(days=span * number // (steps + 1))
        days[stage] = day
        kwargs: dict = {}
        if stage == Stage.LOST:
            reason = rng.choice(reasons)
            kwargs = {
                "lost_reason_id": reason.id,
                "lost_note": rng.choice(OTHER_NOTES) if reason.is_other else "",
            }
        if stage == Stage.WON:
            # A free-name prospect becomes a client, as the owner would do.
            kwargs = {"create_client": True}
        pipeline.move_stage(
            opportunity,
            stage,
            actor_id=owner_id,
            at=_moment(workspace, day, rng),
            **kwargs,
        )
    return days
