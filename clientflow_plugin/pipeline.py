"""The sales pipeline: opportunities by stage, follow-ups, closing and losses.

Plain functions over the database session; nothing here knows about HTTP.
Every function that changes data validates all of its input first, raises
:class:`PipelineError` (with one message per field) before touching the
session, and commits when everything is in place, so refused input leaves the
database as it was.

Amounts are integers in the workspace currency's minor unit. The weighted
value of a set of opportunities is Σ value × probability / 100, kept exact
and rounded half-up to the minor unit once per set, never per card.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from hashlib import sha256
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select, true, update
from sqlalchemy.orm import aliased

from host_stub.sdk import User, Workspace, db

from .clock import now_utc, today_in
from .models import (
    OPEN_STAGES,
    Client,
    ClientStatus,
    LostReason,
    Opportunity,
    Project,
    ProposalFile,
    Stage,
    StageChange,
)
from .money import MAX_MINOR, round_minor

logger = logging.getLogger(__name__)

#: Every stage in board order.
STAGES: tuple[Stage, ...] = tuple(Stage)
CLOSED_STAGES: tuple[Stage, ...] = (Stage.WON, Stage.LOST)

#: The close probability an opportunity gets when it enters a stage.
DEFAULT_PROBABILITY: Mapping[Stage, int] = {
    Stage.PROSPECT: 10,
    Stage.QUALIFIED: 25,
    Stage.PROPOSAL: 50,
    Stage.NEGOTIATION: 75,
    Stage.WON: 100,
    Stage.LOST: 0,
}

STAGE_LABELS: Mapping[Stage, Any] = {
    Stage.PROSPECT: _l("Prospect"),
    Stage.QUALIFIED: _l("Qualified"),
    Stage.PROPOSAL: _l("Proposal"),
    Stage.NEGOTIATION: _l("Negotiation"),
    Stage.WON: _l("Won"),
    Stage.LOST: _l("Lost"),
}

#: The largest proposal PDF accepted, in bytes.
MAX_PROPOSAL_BYTES = 10 * 1024 * 1024

#: Days from today counted as "this week" by :func:`follow_ups`.
WEEK_DAYS = 7

#: How far back the board's Won and Lost columns go, in days.
BOARD_CLOSED_DAYS = 90

#: Cards a column of the board shows at first, and how many more each
#: "show more" adds; the column's sums always count all of its cards.
BOARD_CARDS = 50

#: The most cards one column shows, whatever is asked, so that no request
#: renders the whole history of a large pipeline.
BOARD_MAX_CARDS = 500

HUNDRED = Decimal(100)

_TEXT_LIMITS = {
    "prospect_name": 200,
    "prospect_company": 200,
    "title": 200,
    "next_step": 500,
    "notes": 10_000,
}

_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
_PDF_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b")
_PDF_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF")


class PipelineError(ValueError):
    """Refused input: ``errors`` maps each offending field to its message."""

    def __init__(self, errors: Mapping[str, Any]):
        self.errors = {key: str(message) for key, message in errors.items()}
        super().__init__("; ".join(self.errors.values()))


@dataclass(frozen=True)
class ProposalUpload:
    """A proposal file as received, before it is checked."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class Card:
    """One opportunity as the board and the follow-ups list show it."""

    id: int
    stage: Stage
    title: str
    prospect: str
    company: str
    client_id: int | None
    value_minor: int
    probability: int
    next_follow_up: date | None
    next_step: str

    @property
    def is_free_prospect(self) -> bool:
        return self.client_id is None


@dataclass(frozen=True)
class Column:
    """A stage of the board with its first cards and the sums of all of them.

    ``cards`` holds at most ``limit`` cards in board order; ``count`` and the
    totals are those of every opportunity of the column.
    """

    stage: Stage
    count: int
    total_minor: int
    weighted_minor: int
    cards: tuple[Card, ...] = ()
    limit: int = BOARD_CARDS

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self.stage])

    @property
    def hidden(self) -> int:
        """How many of the column's opportunities are not among its cards."""
        return max(self.count - len(self.cards), 0)

    @property
    def next_limit(self) -> int | None:
        """The limit that shows more of the column; None when none can be."""
        if not self.hidden or self.limit >= BOARD_MAX_CARDS:
            return None
        return min(self.limit + BOARD_CARDS, BOARD_MAX_CARDS)


@dataclass(frozen=True)
class Totals:
    """Count, value and weighted value of a set of opportunities."""

    count: int
    total_minor: int
    weighted_minor: int


@dataclass(frozen=True)
class Board:
    columns: tuple[Column, ...]
    open: Totals
    #: Open opportunities whose follow-up date has passed (0 without a date).
    overdue: int = 0

    def column(self, stage: Stage | str) -> Column:
        return next(c for c in self.columns if c.stage == Stage(stage))


@dataclass(frozen=True)
class FollowUps:
    """Open opportunities to follow up: overdue ones, then the coming week's."""

    today: date
    week_end: date  # exclusive
    overdue: tuple[Card, ...]
    this_week: tuple[Card, ...]


@dataclass(frozen=True)
class ReportRow:
    key: str
    label: str
    count: int
    value_minor: int


@dataclass(frozen=True)
class LostReport:
    """Opportunities lost with ``closed_on`` in [start, end)."""

    start: date
    end: date  # exclusive
    count: int
    value_minor: int
    by_reason: tuple[ReportRow, ...]
    by_stage: tuple[ReportRow, ...]


@dataclass(frozen=True)
class HistoryEntry:
    from_stage: Stage | None
    to_stage: Stage
    at: datetime
    user_name: str

    @property
    def is_reopen(self) -> bool:
        return self.from_stage in CLOSED_STAGES and self.to_stage in OPEN_STAGES


@dataclass(frozen=True)
class ProposalFileInfo:
    id: int
    filename: str
    size: int
    uploaded_at: datetime


def stage_label(stage: Stage | str | None) -> str:
    """The stage's name in the reader's language."""
    if stage is None:
        return str(_l("Unknown"))
    return str(STAGE_LABELS[Stage(stage)])


def parse_stage(value: Any) -> Stage:
    """``value`` as a :class:`Stage`, or a :class:`PipelineError` naming it."""
    try:
        return Stage(str(value))
    except ValueError:
        raise PipelineError(
            {"stage": _l("Choose one of the pipeline's stages.")}
        ) from None


def default_probability(stage: Stage | str) -> int:
    return DEFAULT_PROBABILITY[Stage(stage)]


def weighted_minor(value_minor: int, probability: int) -> int:
    """One opportunity's weighted value, rounded half-up to the minor unit."""
    return round_minor(Decimal(value_minor) * probability / HUNDRED)


# -- reading -----------------------------------------------------------------


def get_opportunity(workspace_id: int, opportunity_id: int) -> Opportunity | None:
    """The opportunity with that id in that workspace; None for any other."""
    return db.session.scalar(
        select(Opportunity).where(
            Opportunity.id == opportunity_id,
            Opportunity.workspace_id == workspace_id,
        )
    )


def _card_query(workspace_id: int):
    return (
        select(
            Opportunity.id,
            Opportunity.stage,
            Opportunity.title,
            func.coalesce(Client.name, Opportunity.prospect_name).label("prospect"),
            func.coalesce(Client.company, Opportunity.prospect_company).label(
                "company"
            ),
            Opportunity.client_id,
            Opportunity.value_minor,
            Opportunity.probability,
            Opportunity.next_follow_up,
            Opportunity.next_step,
        )
        .outerjoin(Client, Client.id == Opportunity.client_id)
        .where(Opportunity.workspace_id == workspace_id)
    )


def _card(row) -> Card:
    return Card(
        id=row.id,
        stage=Stage(row.stage),
        title=row.title,
        prospect=row.prospect or "",
        company=row.company or "",
        client_id=row.client_id,
        value_minor=row.value_minor,
        probability=row.probability,
        next_follow_up=row.next_follow_up,
        next_step=row.next_step,
    )


def _weighted(numerator: Any) -> int:
    # ``numerator`` is Σ value × probability, exact: an int on SQLite, a
    # Decimal on PostgreSQL (whose sum of bigint is numeric).
    return round_minor(Decimal(numerator or 0) / HUNDRED)


def _on_board(closed_since: date | None):
    """Open opportunities, and closed ones only from ``closed_since`` on."""
    if closed_since is None:
        return true()
    return or_(
        Opportunity.stage.in_([s.value for s in OPEN_STAGES]),
        Opportunity.closed_on >= closed_since,
    )


def stage_totals(
    workspace_id: int, *, closed_since: date | None = None
) -> tuple[dict[Stage, Totals], Totals]:
    """Sums per stage and over the open stages, from one aggregate query.

    With ``closed_since``, Won and Lost count only what closed on or after
    that date; the open stages always count everything.
    """
    per_stage, open_sums, _overdue = _sums(workspace_id, closed_since, None)
    return per_stage, open_sums


def _sums(
    workspace_id: int, closed_since: date | None, today: date | None
) -> tuple[dict[Stage, Totals], Totals, int]:
    """Sums as :func:`stage_totals`; with ``today``, also overdue follow-ups."""
    columns = [
        Opportunity.stage,
        func.count(Opportunity.id),
        func.coalesce(func.sum(Opportunity.value_minor), 0),
        func.coalesce(func.sum(Opportunity.value_minor * Opportunity.probability), 0),
    ]
    if today is not None:
        late = case((Opportunity.next_follow_up < today, 1), else_=0)
        columns.append(func.coalesce(func.sum(late), 0))
    rows = db.session.execute(
        select(*columns)
        .where(Opportunity.workspace_id == workspace_id, _on_board(closed_since))
        .group_by(Opportunity.stage)
    ).all()

    sums = {}
    overdue = 0
    for stage, count, total, vp, *late_count in rows:
        sums[Stage(stage)] = (count, total, vp)
        if late_count and Stage(stage) in OPEN_STAGES:
            overdue += int(late_count[0])
    per_stage = {}
    for stage in STAGES:
        count, total, vp = sums.get(stage, (0, 0, 0))
        per_stage[stage] = Totals(int(count), int(total), _weighted(vp))
    # The open weighted value is rounded once over all open stages, not
    # summed from the rounded columns.
    open_vp = sum(Decimal(sums.get(s, (0, 0, 0))[2]) for s in OPEN_STAGES)
    open_sums = Totals(
        sum(per_stage[s].count for s in OPEN_STAGES),
        sum(per_stage[s].total_minor for s in OPEN_STAGES),
        _weighted(open_vp),
    )
    return per_stage, open_sums, overdue


def open_totals(workspace_id: int) -> Totals:
    """Value and weighted value of the open opportunities (the dashboard card)."""
    return stage_totals(workspace_id)[1]


def card_limit(requested: int | None) -> int:
    """How many cards a column shows for a requested number, clamped.

    Nothing, or a number below :data:`BOARD_CARDS`, gives the default; more
    than :data:`BOARD_MAX_CARDS` gives that maximum.
    """
    if not isinstance(requested, int) or isinstance(requested, bool):
        return BOARD_CARDS
    return min(max(requested, BOARD_CARDS), BOARD_MAX_CARDS)


def board(
    workspace_id: int,
    *,
    closed_since: date | None = None,
    today: date | None = None,
    limits: Mapping[Stage, int | None] | None = None,
) -> Board:
    """The board: one column per stage with its first cards and sums; two queries.

    Each column holds its first :data:`BOARD_CARDS` cards in board order, or
    as many as ``limits`` asks for that stage (see :func:`card_limit`), while
    its count and totals cover all of its opportunities. The cards of every
    column come from one query that ranks each stage's opportunities, so the
    board reads the same number of rows and runs the same queries whatever
    the size of the pipeline.

    ``closed_since`` keeps the Won and Lost columns to recent closings, so
    the board does not grow with years of history; their cards and sums
    then agree with each other. With ``today``, :attr:`Board.overdue` counts
    the open opportunities whose follow-up is before it.
    """
    limits = limits or {}
    column_limits = {stage: card_limit(limits.get(stage)) for stage in STAGES}
    totals, open_sums, overdue = _sums(workspace_id, closed_since, today)

    ranked = (
        select(
            Opportunity.id,
            func.row_number()
            .over(
                partition_by=Opportunity.stage,
                order_by=(Opportunity.position, Opportunity.id),
            )
            .label("place"),
            case(
                {stage.value: n for stage, n in column_limits.items()},
                value=Opportunity.stage,
                else_=0,
            ).label("shown"),
        )
        .where(Opportunity.workspace_id == workspace_id, _on_board(closed_since))
        .subquery()
    )
    rows = db.session.execute(
        _card_query(workspace_id)
        .join(ranked, ranked.c.id == Opportunity.id)
        .where(ranked.c.place <= ranked.c.shown)
        .order_by(ranked.c.place)
    ).all()

    cards: dict[Stage, list[Card]] = {stage: [] for stage in STAGES}
    for row in rows:
        card = _card(row)
        cards[card.stage].append(card)
    columns = tuple(
        Column(
            stage=stage,
            count=totals[stage].count,
            total_minor=totals[stage].total_minor,
            weighted_minor=totals[stage].weighted_minor,
            cards=tuple(cards[stage]),
            limit=column_limits[stage],
        )
        for stage in STAGES
    )
    return Board(columns=columns, open=open_sums, overdue=overdue)


def follow_ups(workspace: Workspace, today: date | None = None) -> FollowUps:
    """Open opportunities whose follow-up is overdue or due within a week.

    "This week" is the seven days from ``today`` (the workspace's date), so a
    Friday review still shows the follow-ups of the coming Monday.
    """
    today = today or today_in(workspace)
    week_end = today + timedelta(days=WEEK_DAYS)
    rows = db.session.execute(
        _card_query(workspace.id)
        .where(
            Opportunity.stage.in_([s.value for s in OPEN_STAGES]),
            Opportunity.next_follow_up.is_not(None),
            Opportunity.next_follow_up < week_end,
        )
        .order_by(
            Opportunity.next_follow_up,
            Opportunity.value_minor.desc(),
            Opportunity.id,
        )
    ).all()

    cards = [_card(row) for row in rows]
    return FollowUps(
        today=today,
        week_end=week_end,
        overdue=tuple(c for c in cards if c.next_follow_up < today),
        this_week=tuple(c for c in cards if c.next_follow_up >= today),
    )


def stage_history(opportunity_id: int) -> list[HistoryEntry]:
    """The stage changes of an opportunity, oldest first, with who made them."""
    rows = db.session.execute(
        select(
            StageChange.from_stage,
            StageChange.to_stage,
            StageChange.at,
            User.display_name,
        )
        .outerjoin(User, User.id == StageChange.user_id)
        .where(StageChange.opportunity_id == opportunity_id)
        .order_by(StageChange.at, StageChange.id)
    ).all()
    return [
        HistoryEntry(
            from_stage=Stage(row.from_stage) if row.from_stage else None,
            to_stage=Stage(row.to_stage),
            at=row.at,
            user_name=row.display_name or "",
        )
        for row in rows
    ]


def proposal_file_info(opportunity: Opportunity) -> ProposalFileInfo | None:
    """Name, size and date of the opportunity's PDF, without loading its bytes."""
    if opportunity.proposal_file_id is None:
        return None
    row = db.session.execute(
        select(
            ProposalFile.id,
            ProposalFile.filename,
            ProposalFile.size,
            ProposalFile.uploaded_at,
        ).where(
            ProposalFile.id == opportunity.proposal_file_id,
            ProposalFile.workspace_id == opportunity.workspace_id,
        )
    ).one_or_none()
    return ProposalFileInfo(*row) if row else None


def proposal_file(opportunity: Opportunity) -> ProposalFile | None:
    """The stored PDF of the opportunity, only from the opportunity's workspace."""
    if opportunity.proposal_file_id is None:
        return None
    return db.session.scalar(
        select(ProposalFile).where(
            ProposalFile.id == opportunity.proposal_file_id,
            ProposalFile.workspace_id == opportunity.workspace_id,
        )
    )


def client_choices(workspace_id: int) -> list[tuple[int, str]]:
    """The workspace's non-archived clients as (id, "name · company")."""
    rows = db.session.execute(
        select(Client.id, Client.name, Client.company)
        .where(Client.workspace_id == workspace_id, Client.archived.is_(False))
        .order_by(func.lower(Client.name), Client.id)
    ).all()
    return [
        (row.id, f"{row.name} · {row.company}" if row.company else row.name)
        for row in rows
    ]


# -- checking input ----------------------------------------------------------


def check_pdf(upload: ProposalUpload) -> None:
    """Refuse anything that is not a PDF by its content, or is over the limit.

    The name and the browser's content type prove nothing: the bytes must
    start with a PDF header, hold at least one indirect object, name a
    document catalogue and end with a cross-reference pointer and ``%%EOF``
    pointing inside the file.
    """
    content = upload.content
    if len(content) > MAX_PROPOSAL_BYTES:
        raise PipelineError({"proposal": _l("The proposal file is larger than 10 MB.")})
    if not content:
        raise PipelineError({"proposal": _l("The proposal file is empty.")})
    if not _looks_like_pdf(content):
        raise PipelineError(
            {"proposal": _l("The proposal file is not a PDF document.")}
        )


def _looks_like_pdf(content: bytes) -> bool:
    if not _PDF_HEADER.match(content):
        return False
    tail = content[-2048:]
    pointers = _PDF_STARTXREF.findall(tail)
    if not pointers or int(pointers[-1]) >= len(content):
        return False
    if b"/Root" not in content:
        return False
    return _PDF_OBJECT.search(content) is not None


def _clean_filename(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|:*?')
    name = name.strip(" .") or "proposal"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    return name[-255:]


def _check_url(url: str) -> str | None:
    """An error message for a proposal link that is not a web address."""
    if len(url) > 1000:
        return _l("The link is longer than 1000 characters.")
    parts = urlsplit(url)
    # Only web links: a javascript: or data: address would run in the page.
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _l("Enter a web address starting with https:// or http://.")
    return None


def _text(value: Any) -> str:
    return str(value or "").strip()


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{value!r} is not a date")
    return value


def _workspace_client(workspace_id: int, client_id: int) -> Client | None:
    return db.session.scalar(
        select(Client).where(
            Client.id == client_id, Client.workspace_id == workspace_id
        )
    )


_FIELDS = (
    "client_id",
    "prospect_name",
    "prospect_company",
    "title",
    "value_minor",
    "probability",
    "proposal_url",
    "proposal_sent_on",
    "next_follow_up",
    "next_step",
    "notes",
)


def _validate(
    workspace_id: int,
    values: dict[str, Any],
    *,
    stage: Stage,
    current_client_id: int | None = None,
) -> dict[str, Any]:
    """Check a whole opportunity; returns the cleaned values or raises."""
    errors: dict[str, Any] = {}
    clean: dict[str, Any] = {}

    for name, limit in _TEXT_LIMITS.items():
        clean[name] = _text(values.get(name))
        if len(clean[name]) > limit:
            errors[name] = _l("At most %(n)s characters.", n=limit)

    client_id = values.get("client_id")
    clean["client_id"] = None
    if client_id not in (None, ""):
        client = None
        if isinstance(client_id, int) and not isinstance(client_id, bool):
            client = _workspace_client(workspace_id, client_id)
        # A client archived since it was linked stays linked; a new link
        # must name a current client of this workspace.
        if client is None or (client.archived and client.id != current_client_id):
            if client is None:
                logger.warning(
                    "client %r refused for an opportunity of workspace %s",
                    client_id,
                    workspace_id,
                )
            errors["client_id"] = _l("Choose a client of this workspace.")
        else:
            clean["client_id"] = client.id
    elif not clean["prospect_name"] and not clean["prospect_company"]:
        errors["prospect_name"] = _l(
            "Choose a client or type the prospect's name or company."
        )

    value = values.get("value_minor", 0)
    if not isinstance(value, int) or isinstance(value, bool):
        errors["value_minor"] = _l("Enter the estimated value as an amount.")
    elif value < 0:
        errors["value_minor"] = _l("The estimated value cannot be negative.")
    elif value > MAX_MINOR:
        errors["value_minor"] = _l("The estimated value is too large.")
    clean["value_minor"] = value

    probability = values.get("probability")
    if probability is None or probability == "":
        probability = default_probability(stage)
    if not isinstance(probability, int) or isinstance(probability, bool):
        errors["probability"] = _l("Enter the probability as a whole number.")
    elif not 0 <= probability <= 100:
        errors["probability"] = _l("The probability must be between 0 and 100.")
    clean["probability"] = probability

    clean["proposal_url"] = _text(values.get("proposal_url"))
    if clean["proposal_url"]:
        message = _check_url(clean["proposal_url"])
        if message:
            errors["proposal_url"] = message

    for name in ("proposal_sent_on", "next_follow_up"):
        try:
            clean[name] = _date(values.get(name))
        except TypeError:
            errors[name] = _l("Enter a date.")

    if errors:
        raise PipelineError(errors)
    return clean


def _check_proposal(proposal: ProposalUpload | None) -> None:
    if proposal is not None:
        check_pdf(proposal)


def _store_proposal(workspace_id: int, proposal: ProposalUpload) -> ProposalFile:
    stored = ProposalFile(
        workspace_id=workspace_id,
        filename=_clean_filename(proposal.filename),
        size=len(proposal.content),
        sha256=sha256(proposal.content).hexdigest(),
        content=proposal.content,
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def _workspace(workspace_id: int) -> Workspace:
    return db.session.get(Workspace, workspace_id)


def _next_position(workspace_id: int, stage: Stage) -> int:
    last = db.session.scalar(
        select(func.max(Opportunity.position)).where(
            Opportunity.workspace_id == workspace_id, Opportunity.stage == stage
        )
    )
    return 0 if last is None else last + 1


# -- changing ----------------------------------------------------------------


def create_opportunity(
    workspace: Workspace,
    *,
    actor_id: int | None,
    stage: Stage | str = Stage.PROSPECT,
    client_id: int | None = None,
    prospect_name: str = "",
    prospect_company: str = "",
    title: str = "",
    value_minor: int = 0,
    probability: int | None = None,
    proposal_url: str = "",
    proposal_sent_on: date | None = None,
    proposal: ProposalUpload | None = None,
    next_follow_up: date | None = None,
    next_step: str = "",
    notes: str = "",
    at: datetime | None = None,
) -> Opportunity:
    """Add an opportunity in an open stage and record its first stage; commits.

    The prospect is ``client_id`` (a client of the workspace) or a free
    ``prospect_name`` and/or ``prospect_company``. ``probability`` defaults
    to the stage's. A proposal (link or PDF) without a date is dated today.
    Opportunities are closed with :func:`move_stage`, never created closed.
    """
    at = at or now_utc()
    stage = parse_stage(stage)
    if stage not in OPEN_STAGES:
        raise PipelineError({"stage": _l("New opportunities start in an open stage.")})
    clean = _validate(
        workspace.id,
        {
            "client_id": client_id,
            "prospect_name": prospect_name,
            "prospect_company": prospect_company,
            "title": title,
            "value_minor": value_minor,
            "probability": probability,
            "proposal_url": proposal_url,
            "proposal_sent_on": proposal_sent_on,
            "next_follow_up": next_follow_up,
            "next_step": next_step,
            "notes": notes,
        },
        stage=stage,
    )
    _check_proposal(proposal)

    opportunity = Opportunity(
        workspace_id=workspace.id,
        stage=stage,
        position=_next_position(workspace.id, stage),
        created_at=at,
        **clean,
    )
    if proposal is not None:
        opportunity.proposal_file_id = _store_proposal(workspace.id, proposal).id
    if (opportunity.proposal_url or proposal) and not opportunity.proposal_sent_on:
        opportunity.proposal_sent_on = today_in(workspace, at)
    db.session.add(opportunity)
    db.session.flush()
    db.session.add(
        StageChange(
            opportunity_id=opportunity.id,
            from_stage=None,
            to_stage=stage,
            at=at,
            user_id=actor_id,
        )
    )
    db.session.commit()

    logger.info(
        "opportunity %s created in %s by %s", opportunity.id, stage.value, actor_id
    )
    return opportunity


_UNSET: Any = object()


def update_opportunity(
    opportunity: Opportunity,
    *,
    actor_id: int | None,
    proposal: ProposalUpload | None = None,
    remove_proposal_file: bool = False,
    **changes: Any,
) -> Opportunity:
    """Change any of the opportunity's fields except its stage; commits.

    ``changes`` takes the keyword names of :func:`create_opportunity`
    (``client_id``, ``value_minor``, ``probability``, ``next_follow_up``…);
    fields not given keep their values, so a caller may send only what
    changed. ``proposal`` replaces the stored PDF; ``remove_proposal_file``
    drops it. The stage changes only through :func:`move_stage`.
    """
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise TypeError(f"unknown opportunity fields: {sorted(unknown)}")
    stage = Stage(opportunity.stage)
    merged = {name: getattr(opportunity, name) for name in _FIELDS}
    merged.update(changes)
    if "client_id" in changes and changes["client_id"] in (None, ""):
        merged["client_id"] = None
    clean = _validate(
        opportunity.workspace_id,
        merged,
        stage=stage,
        current_client_id=opportunity.client_id,
    )
    _check_proposal(proposal)

    old_file_id = opportunity.proposal_file_id
    for name, value in clean.items():
        setattr(opportunity, name, value)
    if proposal is not None:
        opportunity.proposal_file_id = _store_proposal(
            opportunity.workspace_id, proposal
        ).id
    elif remove_proposal_file:
        opportunity.proposal_file_id = None
    if old_file_id is not None and opportunity.proposal_file_id != old_file_id:
        db.session.execute(
            ProposalFile.__table__.delete().where(ProposalFile.id == old_file_id)
        )
    has_proposal = opportunity.proposal_url or opportunity.proposal_file_id
    if has_proposal and not opportunity.proposal_sent_on:
        opportunity.proposal_sent_on = today_in(_workspace(opportunity.workspace_id))
    db.session.commit()

    logger.info("opportunity %s updated by %s", opportunity.id, actor_id)
    return opportunity


def _place(
    opportunity: Opportunity,
    stage: Stage,
    position: int | None,
    closed_since: date | None = None,
) -> None:
    """Put the opportunity at ``position`` of the stage's column, or last.

    ``position`` counts the cards the board shows: with ``closed_since``, a
    Won or Lost column shows only what closed since then, so the card goes
    just before the shown card it was dropped on (or just after the last
    one) and the cards left off keep their order around it. The column is
    numbered again from 0, off-board cards included.
    """
    if position is None:
        if opportunity.stage != stage:
            opportunity.position = _next_position(opportunity.workspace_id, stage)
        return
    rows = db.session.execute(
        select(Opportunity.id, Opportunity.position, Opportunity.closed_on)
        .where(
            Opportunity.workspace_id == opportunity.workspace_id,
            Opportunity.stage == stage,
            Opportunity.id != opportunity.id,
        )
        .order_by(Opportunity.position, Opportunity.id)
    ).all()
    order = [row.id for row in rows]
    if closed_since is None or stage in OPEN_STAGES:
        slot = min(position, len(order))
    else:
        shown = [
            i
            for i, row in enumerate(rows)
            if row.closed_on is not None and row.closed_on >= closed_since
        ]
        if position < len(shown):
            slot = shown[position]
        else:
            slot = shown[-1] + 1 if shown else len(order)
    order.insert(slot, opportunity.id)
    current = {row.id: row.position for row in rows}
    changed = [
        {"id": opp_id, "position": index}
        for index, opp_id in enumerate(order)
        if opp_id != opportunity.id and current[opp_id] != index
    ]
    if changed:
        # One executemany UPDATE by primary key, whatever the column's size.
        db.session.execute(update(Opportunity), changed)
    opportunity.position = order.index(opportunity.id)


def _convert_prospect(
    opportunity: Opportunity, project_name: str, actor_id: int | None
) -> Client | None:
    """Make the won prospect a client with a first project; None if it was one."""
    client = None
    if opportunity.client_id is None:
        client = Client(
            workspace_id=opportunity.workspace_id,
            name=opportunity.prospect_name or opportunity.prospect_company,
            company=opportunity.prospect_company,
            status=ClientStatus.ACTIVE,
        )
        db.session.add(client)
        db.session.flush()
        opportunity.client_id = client.id
    else:
        linked = db.session.get(Client, opportunity.client_id)
        if linked is None or linked.status != ClientStatus.PROSPECT:
            return None
        linked.status = ClientStatus.ACTIVE
        client = linked
    db.session.add(
        Project(
            workspace_id=opportunity.workspace_id,
            client_id=client.id,
            name=project_name
            or opportunity.title
            or opportunity.prospect_company
            or client.name,
            start_date=opportunity.closed_on,
        )
    )
    logger.info(
        "opportunity %s won: %s is now a client (by %s)",
        opportunity.id,
        client.id,
        actor_id,
    )
    return client


def move_stage(
    opportunity: Opportunity,
    stage: Stage | str,
    *,
    actor_id: int | None,
    position: int | None = None,
    closed_since: date | None = None,
    lost_reason_id: int | None = None,
    lost_note: str = "",
    create_client: bool = False,
    project_name: str = "",
    at: datetime | None = None,
) -> Opportunity:
    """Move the opportunity to ``stage`` (at ``position`` of its column); commits.

    A change of stage is recorded as a :class:`StageChange`; a move within
    the same column only reorders. ``position`` counts the cards of the
    column as the board shows them: given the board's ``closed_since`` too,
    a drop on Won or Lost lands among the recent closings where it was
    dropped, whatever older closings the board leaves off.

    Lost needs ``lost_reason_id`` from the workspace's active reasons, and
    ``lost_note`` when the reason is "other".
    Won and lost set the closing date and probability 100 / 0; moving a
    closed opportunity back to an open stage reopens it. The probability
    follows the new stage's default unless the owner had changed it.
    ``create_client`` on won turns a free-name prospect (or a client still in
    the prospect status) into an active client with a first project named
    ``project_name``.
    """
    at = at or now_utc()
    target = parse_stage(stage)
    if position is not None and (
        not isinstance(position, int) or isinstance(position, bool) or position < 0
    ):
        raise PipelineError({"position": _l("The position must be 0 or more.")})
    lost_note = _text(lost_note)
    project_name = _text(project_name)
    reason = None
    if target == Stage.LOST:
        reason = _check_lost_reason(opportunity.workspace_id, lost_reason_id, lost_note)
    if len(project_name) > 200:
        raise PipelineError({"project_name": _l("At most %(n)s characters.", n=200)})
    source = Stage(opportunity.stage)

    if source == target:
        _place(opportunity, target, position, closed_since)
        db.session.commit()
        return opportunity

    _place(opportunity, target, position, closed_since)
    opportunity.stage = target
    if target in CLOSED_STAGES:
        opportunity.probability = DEFAULT_PROBABILITY[target]
        opportunity.closed_on = today_in(_workspace(opportunity.workspace_id), at)
    else:
        if opportunity.probability == DEFAULT_PROBABILITY[source]:
            opportunity.probability = DEFAULT_PROBABILITY[target]
        opportunity.closed_on = None
    opportunity.lost_reason_id = reason.id if reason else None
    opportunity.lost_note = lost_note if reason else ""
    db.session.add(
        StageChange(
            opportunity_id=opportunity.id,
            from_stage=source,
            to_stage=target,
            at=at,
            user_id=actor_id,
        )
    )
    if target == Stage.WON and create_client:
        _convert_prospect(opportunity, project_name, actor_id)
    db.session.commit()

    if reason is not None:
        logger.info(
            "opportunity %s moved to lost (reason %s) by %s",
            opportunity.id,
            reason.id,
            actor_id,
        )
    elif source in CLOSED_STAGES:
        logger.info(
            "opportunity %s reopened in %s by %s", opportunity.id, target, actor_id
        )
    else:
        logger.info(
            "opportunity %s moved to %s by %s", opportunity.id, target, actor_id
        )
    return opportunity


def _check_lost_reason(
    workspace_id: int, reason_id: int | None, note: str
) -> LostReason:
    reason = None
    if isinstance(reason_id, int) and not isinstance(reason_id, bool):
        reason = db.session.scalar(
            select(LostReason).where(
                LostReason.id == reason_id,
                LostReason.workspace_id == workspace_id,
                LostReason.archived.is_(False),
            )
        )
    if reason is None:
        if reason_id is not None:
            logger.warning(
                "lost reason %r refused in workspace %s", reason_id, workspace_id
            )
        raise PipelineError(
            {"lost_reason_id": _l("Choose why the opportunity was lost.")}
        )
    if reason.is_other and not note:
        raise PipelineError({"lost_note": _l("Say in a few words why it was lost.")})
    if len(note) > 1000:
        raise PipelineError({"lost_note": _l("At most %(n)s characters.", n=1000)})
    return reason


# -- lost reasons ------------------------------------------------------------


def lost_reasons(workspace_id: int, *, include_archived: bool = False) -> list:
    """The workspace's lost reasons, "other" last."""
    query = select(LostReason).where(LostReason.workspace_id == workspace_id)
    if not include_archived:
        query = query.where(LostReason.archived.is_(False))
    return list(
        db.session.scalars(
            query.order_by(
                LostReason.archived,
                LostReason.is_other,
                func.lower(LostReason.label),
            )
        )
    )


def lost_reason_usage(workspace_id: int) -> dict[int, int]:
    """How many lost opportunities each reason explains."""
    rows = db.session.execute(
        select(Opportunity.lost_reason_id, func.count(Opportunity.id))
        .where(
            Opportunity.workspace_id == workspace_id,
            Opportunity.stage == Stage.LOST,
            Opportunity.lost_reason_id.is_not(None),
        )
        .group_by(Opportunity.lost_reason_id)
    ).all()
    return {reason_id: count for reason_id, count in rows}


def get_lost_reason(workspace_id: int, reason_id: int) -> LostReason | None:
    return db.session.scalar(
        select(LostReason).where(
            LostReason.id == reason_id, LostReason.workspace_id == workspace_id
        )
    )


def add_lost_reason(
    workspace_id: int, label: str, *, is_other: bool = False
) -> LostReason:
    """Add a reason to the workspace's list; ``is_other`` asks for a note. Commits."""
    label = _text(label)
    if not label:
        raise PipelineError({"label": _l("Type the reason.")})
    if len(label) > 120:
        raise PipelineError({"label": _l("At most %(n)s characters.", n=120)})
    taken = db.session.scalar(
        select(LostReason.id).where(
            LostReason.workspace_id == workspace_id,
            LostReason.archived.is_(False),
            func.lower(LostReason.label) == label.lower(),
        )
    )
    if taken:
        raise PipelineError({"label": _l("This reason is already in the list.")})

    reason = LostReason(workspace_id=workspace_id, label=label, is_other=is_other)
    db.session.add(reason)
    db.session.commit()
    logger.info("lost reason %s added in workspace %s", reason.id, workspace_id)
    return reason


def set_lost_reason_archived(reason: LostReason, archived: bool) -> LostReason:
    """Archive a reason (kept on past opportunities) or bring it back; commits."""
    if archived and not reason.archived:
        active = db.session.scalar(
            select(func.count(LostReason.id)).where(
                LostReason.workspace_id == reason.workspace_id,
                LostReason.archived.is_(False),
            )
        )
        if active <= 1:
            raise PipelineError(
                {
                    "label": _l(
                        "Keep at least one reason, or opportunities cannot be lost."
                    )
                }
            )
    if not archived and reason.archived:
        taken = db.session.scalar(
            select(LostReason.id).where(
                LostReason.workspace_id == reason.workspace_id,
                LostReason.archived.is_(False),
                func.lower(LostReason.label) == reason.label.lower(),
            )
        )
        if taken:
            raise PipelineError({"label": _l("This reason is already in the list.")})

    reason.archived = archived
    db.session.commit()
    logger.info("lost reason %s %s", reason.id, "archived" if archived else "restored")
    return reason


# -- lost report -------------------------------------------------------------


def lost_report(workspace_id: int, start: date, end: date) -> LostReport:
    """Value and count lost per reason and per stage reached, over [start, end).

    The stage reached is the last open stage the opportunity was in before it
    was lost, read from its stage history. Three aggregate queries.
    """
    if not isinstance(start, date) or not isinstance(end, date) or start >= end:
        raise PipelineError({"end": _l("The period must end after it starts.")})
    lost = (
        Opportunity.workspace_id == workspace_id,
        Opportunity.stage == Stage.LOST,
        Opportunity.closed_on >= start,
        Opportunity.closed_on < end,
    )

    reason_rows = db.session.execute(
        select(
            LostReason.id,
            LostReason.label,
            func.count(Opportunity.id),
            func.coalesce(func.sum(Opportunity.value_minor), 0),
        )
        .select_from(Opportunity)
        .outerjoin(LostReason, LostReason.id == Opportunity.lost_reason_id)
        .where(*lost)
        .group_by(LostReason.id, LostReason.label)
    ).all()

    last_open = (
        select(
            StageChange.opportunity_id,
            func.max(StageChange.id).label("change_id"),
        )
        .where(
            StageChange.to_stage.in_([s.value for s in OPEN_STAGES]),
            # Only this report's opportunities: the history of every tenant
            # is in the same table.
            StageChange.opportunity_id.in_(select(Opportunity.id).where(*lost)),
        )
        .group_by(StageChange.opportunity_id)
        .subquery()
    )
    reached = aliased(StageChange)
    stage_rows = db.session.execute(
        select(
            reached.to_stage,
            func.count(Opportunity.id),
            func.coalesce(func.sum(Opportunity.value_minor), 0),
        )
        .select_from(Opportunity)
        .outerjoin(last_open, last_open.c.opportunity_id == Opportunity.id)
        .outerjoin(reached, reached.id == last_open.c.change_id)
        .where(*lost)
        .group_by(reached.to_stage)
    ).all()

    by_reason = sorted(
        (
            ReportRow(
                key=str(reason_id) if reason_id else "none",
                label=label if reason_id else str(_l("No reason recorded")),
                count=int(count),
                value_minor=int(value),
            )
            for reason_id, label, count, value in reason_rows
        ),
        key=lambda row: (-row.value_minor, -row.count, row.label.lower()),
    )
    found = {stage: (int(c), int(v)) for stage, c, v in stage_rows}
    by_stage = [
        ReportRow(
            key=stage.value,
            label=stage_label(stage),
            count=found.get(stage.value, (0, 0))[0],
            value_minor=found.get(stage.value, (0, 0))[1],
        )
        for stage in OPEN_STAGES
    ]
    if None in found:
        by_stage.append(
            ReportRow("unknown", stage_label(None), found[None][0], found[None][1])
        )
    return LostReport(
        start=start,
        end=end,
        count=sum(row.count for row in by_reason),
        value_minor=sum(row.value_minor for row in by_reason),
        by_reason=tuple(by_reason),
        by_stage=tuple(by_stage),
    )
