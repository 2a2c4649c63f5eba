"""The agency's clients: their records, projects, interactions and card figures.

Plain functions that take values and work on the platform's database session.
Functions that change data add and flush but never commit: the caller commits,
so a view, an API call or an import can put several changes in one
transaction. Every lookup is scoped to a workspace id, so an id of another
workspace is simply not found.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Select,
    String,
    case,
    cast,
    delete,
    func,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from host_stub.sdk import MailError, User, Workspace, db, send_mail

from .clock import zone
from .invoices import status_expr as invoice_status_expr
from .models import (
    OPEN_STAGES,
    Client,
    ClientRevenue,
    ClientStatus,
    HourPack,
    Interaction,
    InteractionKind,
    Invoice,
    InvoiceTemplate,
    Opportunity,
    Project,
    ProjectStatus,
    TaxRate,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CLIENT_FIELDS",
    "KNOWN_REGIONS",
    "CardPage",
    "ClientCard",
    "ClientInUseError",
    "ClientNotFound",
    "InteractionRow",
    "InvoiceRow",
    "MailError",
    "ValidationError",
    "add_interaction",
    "archive_client",
    "clean_client_data",
    "client_cards",
    "client_figures",
    "create_client",
    "create_project",
    "delete_client",
    "deletion_blockers",
    "fold",
    "fold_sql",
    "get_client",
    "get_project",
    "interaction_moment",
    "interactions_of",
    "invoices_of",
    "opportunities_of",
    "projects_of",
    "regions_in_use",
    "send_message",
    "unarchive_client",
    "update_client",
    "update_project",
]

# Limits of the encrypted columns, which are unbounded Text in the database.
TAX_ID_MAX = 64
BILLING_ADDRESS_MAX = 1000
BANK_DETAILS_MAX = 500
BILLING_NOTES_MAX = 2000
SUMMARY_MAX = 5000
SUBJECT_MAX = 200
BODY_MAX = 20000


def _column_length(column) -> int:
    return column.type.length


#: Single-line fields of a client and their maximum lengths.
LINE_FIELDS: dict[str, int] = {
    "name": _column_length(Client.__table__.c.name),
    "company": _column_length(Client.__table__.c.company),
    "email": _column_length(Client.__table__.c.email),
    "phone": _column_length(Client.__table__.c.phone),
    "website": _column_length(Client.__table__.c.website),
    "region": _column_length(Client.__table__.c.region),
    "tax_id": TAX_ID_MAX,
    "external_id": _column_length(Client.__table__.c.external_id),
}

#: Multi-line fields of a client and their maximum lengths.
TEXT_FIELDS: dict[str, int] = {
    "address": _column_length(Client.__table__.c.address),
    "billing_address": BILLING_ADDRESS_MAX,
    "bank_details": BANK_DETAILS_MAX,
    "billing_notes": BILLING_NOTES_MAX,
}

#: Every field ``create_client`` and ``update_client`` accept.
CLIENT_FIELDS = (*LINE_FIELDS, *TEXT_FIELDS, "status")

#: Billing details, encrypted at rest; empty is stored as NULL.
ENCRYPTED_FIELDS = frozenset(
    {"tax_id", "billing_address", "bank_details", "billing_notes"}
)

PROJECT_NAME_MAX = _column_length(Project.__table__.c.name)

#: Regions offered when creating a client; any other short code is accepted.
KNOWN_REGIONS: tuple[tuple[str, Any], ...] = (
    ("ES", _l("Spain")),
    ("ES-CN", _l("Spain, Canary Islands")),
    ("PT", _l("Portugal")),
    ("EU", _l("European Union, other")),
    ("MX", _l("Mexico")),
    ("AR", _l("Argentina")),
    ("CL", _l("Chile")),
    ("CO", _l("Colombia")),
    ("PE", _l("Peru")),
    ("UY", _l("Uruguay")),
    ("US", _l("United States")),
)

_REGION_RE = re.compile(r"^[A-Z0-9]{2,3}(-[A-Z0-9]{1,4})?$")

SORTS = ("name", "revenue", "last_interaction")
VIEWS = ("current", "archived", "all")
DEFAULT_PER_PAGE = 24
MAX_PER_PAGE = 100


class ValidationError(ValueError):
    """Input that cannot be stored; ``errors`` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, list[Any]]):
        self.errors = {field: list(messages) for field, messages in errors.items()}
        super().__init__("; ".join(f"{f}: {m}" for f, m in self.errors.items()))


class ClientNotFound(LookupError):
    """No such client (or project) in this workspace."""


class ClientInUseError(ValueError):
    """The client has records that must keep it, so it can only be archived."""


# ---------------------------------------------------------------------------
# Search that ignores case and accents on SQLite and PostgreSQL alike.

_ACCENTED = "áàâäãåéèêëíìîïóòôöõúùûüýÿñç"
_FOLD_MAP = {
    char: unicodedata.normalize("NFD", char)[0].lower()
    for char in _ACCENTED + _ACCENTED.upper()
}
_FOLD_TABLE = str.maketrans(_FOLD_MAP)
_SQLITE_FOLD = "clientflow_fold"


def fold(text: str) -> str:
    """``text`` without case or accents, as :func:`fold_sql` folds a column."""
    return text.lower().translate(_FOLD_TABLE)


class fold_sql(FunctionElement):  # noqa: N801  (used like a SQL function)
    """A column folded like :func:`fold`, for searching and sorting by name."""

    type = String()
    inherit_cache = True


@compiles(fold_sql)
def _fold_sqlite(element, compiler, **kw) -> str:
    # SQLite's lower() only knows ASCII, so the same Python function that
    # folds the search term is registered on the connection.
    return f"{_SQLITE_FOLD}({compiler.process(element.clauses, **kw)})"


@compiles(fold_sql, "postgresql")
def _fold_postgresql(element, compiler, **kw) -> str:
    # Both cases are listed: lower() leaves accented capitals alone in a
    # database created with the C locale.
    source = "".join(_FOLD_MAP)
    target = "".join(_FOLD_MAP.values())
    column = compiler.process(element.clauses, **kw)
    return f"translate(lower({column}), '{source}', '{target}')"


def _sqlite_fold(value: str | None) -> str | None:
    return None if value is None else fold(value)


def _prepare_fold() -> None:
    """Make :class:`fold_sql` callable on the session's SQLite connection.

    Registering a function is a call on the driver, not a statement, so it
    adds no query; doing it before each use covers every pooled connection.
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    raw.create_function(_SQLITE_FOLD, 1, _sqlite_fold, deterministic=True)


# ---------------------------------------------------------------------------
# Validation


def _has_control(text: str, *, multiline: bool) -> bool:
    allowed = "\n\r\t" if multiline else ""
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def _clean_text(
    errors: dict[str, list[Any]],
    field: str,
    value: Any,
    limit: int,
    *,
    multiline: bool = False,
    required: bool = False,
) -> str:
    text = "" if value is None else str(value).strip()
    if multiline:
        # Browsers send CRLF from text areas; keep one kind of line break.
        text = text.replace("\r\n", "\n")
    if required and not text:
        errors.setdefault(field, []).append(_l("This field is required."))
    elif len(text) > limit:
        errors.setdefault(field, []).append(
            _l("Use at most %(limit)d characters.", limit=limit)
        )
    elif _has_control(text, multiline=multiline):
        errors.setdefault(field, []).append(
            _l("Remove the control characters from this field.")
        )
    return text


def _clean_email(errors: dict[str, list[Any]], text: str) -> str:
    if not text or "email" in errors:
        return text
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        errors.setdefault("email", []).append(
            _l("Enter a valid email address, e.g. ana@example.com.")
        )
        return text


def _clean_website(errors: dict[str, list[Any]], text: str) -> str:
    if not text or "website" in errors:
        return text
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or "." not in parts.netloc
    ):
        errors.setdefault("website", []).append(
            _l("Enter a web address such as https://example.com.")
        )
    elif len(text) > LINE_FIELDS["website"]:
        errors.setdefault("website", []).append(
            _l("Use at most %(limit)d characters.", limit=LINE_FIELDS["website"])
        )
    return text


def _clean_region(errors: dict[str, list[Any]], text: str) -> str:
    code = text.upper()
    if code and "region" not in errors and not _REGION_RE.match(code):
        errors.setdefault("region", []).append(
            _l("Use a region code such as ES, ES-CN or MX.")
        )
    return code


def _clean_status(errors: dict[str, list[Any]], value: Any) -> str:
    text = str(value or "").strip().lower()
    if text not in {s.value for s in ClientStatus}:
        errors.setdefault("status", []).append(
            _l("Choose active, inactive or prospect.")
        )
    return text


def clean_client_data(data: Mapping[str, Any], *, partial: bool = False) -> dict:
    """Checked and normalised client values; raises :class:`ValidationError`.

    With ``partial`` only the fields present are checked (an update), and a
    missing name or status is not an error.
    """
    unknown = set(data) - set(CLIENT_FIELDS)
    if unknown:
        raise ValidationError(
            {field: [_l("Unknown field.")] for field in sorted(unknown)}
        )

    errors: dict[str, list[Any]] = {}
    clean: dict[str, Any] = {}
    for field, limit in LINE_FIELDS.items():
        if field in data or not partial:
            clean[field] = _clean_text(
                errors, field, data.get(field), limit, required=field == "name"
            )
    for field, limit in TEXT_FIELDS.items():
        if field in data or not partial:
            clean[field] = _clean_text(
                errors, field, data.get(field), limit, multiline=True
            )
    if "status" in data or not partial:
        clean["status"] = _clean_status(errors, data.get("status", "active"))
    if "email" in clean:
        clean["email"] = _clean_email(errors, clean["email"])
    if "website" in clean:
        clean["website"] = _clean_website(errors, clean["website"])
    if "region" in clean:
        clean["region"] = _clean_region(errors, clean["region"])
    if errors:
        raise ValidationError(errors)

    for field in ENCRYPTED_FIELDS | {"external_id"}:
        if field in clean and not clean[field]:
            clean[field] = None
    return clean


def _check_external_id(
    workspace_id: int, external_id: str | None, client_id: int | None
) -> None:
    if not external_id:
        return
    clash = db.session.scalar(
        select(Client.id).where(
            Client.workspace_id == workspace_id,
            Client.external_id == external_id,
            Client.id != (client_id or 0),
        )
    )
    if clash is not None:
        raise ValidationError(
            {"external_id": [_l("Another client already has this external id.")]}
        )


# ---------------------------------------------------------------------------
# Clients


def get_client(workspace_id: int, client_id: int) -> Client | None:
    """The client ``client_id`` of the workspace, or None (also for other ones)."""
    return db.session.scalar(
        select(Client).where(
            Client.workspace_id == workspace_id, Client.id == client_id
        )
    )


def _require_client(workspace_id: int, client_id: int) -> Client:
    client = get_client(workspace_id, client_id)
    if client is None:
        raise ClientNotFound(client_id)
    return client


def create_client(
    workspace_id: int, data: Mapping[str, Any], *, user_id: int | None = None
) -> Client:
    """A new client from ``data`` (keys of :data:`CLIENT_FIELDS`); caller commits."""
    clean = clean_client_data(data)
    _check_external_id(workspace_id, clean.get("external_id"), None)

    client = Client(workspace_id=workspace_id, **clean)
    db.session.add(client)
    db.session.flush()
    logger.info(
        "client %s created in workspace %s by user %s", client.id, workspace_id, user_id
    )
    return client


def update_client(
    workspace_id: int,
    client_id: int,
    data: Mapping[str, Any],
    *,
    user_id: int | None = None,
) -> Client:
    """Change the fields present in ``data``; the others stay; caller commits."""
    client = _require_client(workspace_id, client_id)
    clean = clean_client_data(data, partial=True)
    if "external_id" in clean:
        _check_external_id(workspace_id, clean["external_id"], client.id)

    for field, value in clean.items():
        setattr(client, field, value)
    db.session.flush()
    logger.info(
        "client %s updated in workspace %s by user %s", client.id, workspace_id, user_id
    )
    return client


def archive_client(
    workspace_id: int, client_id: int, *, user_id: int | None = None
) -> Client:
    """Hide a client from the default lists; all its history stays."""
    client = _require_client(workspace_id, client_id)
    if not client.archived:
        client.archived = True
        client.archived_at = datetime.now(UTC)
        db.session.flush()
        logger.info(
            "client %s archived in workspace %s by user %s",
            client.id,
            workspace_id,
            user_id,
        )
    return client


def unarchive_client(
    workspace_id: int, client_id: int, *, user_id: int | None = None
) -> Client:
    """Bring an archived client back to the default lists."""
    client = _require_client(workspace_id, client_id)
    if client.archived:
        client.archived = False
        client.archived_at = None
        db.session.flush()
        logger.info(
            "client %s unarchived in workspace %s by user %s",
            client.id,
            workspace_id,
            user_id,
        )
    return client


def deletion_blockers(workspace_id: int, client_id: int) -> dict[str, int]:
    """Records that keep a client from being deleted, counted by kind.

    Invoices (of any state), opportunities, hour packs and invoice templates
    all refer to the client; any of them means archive, never delete.
    """

    def count(model) -> Any:
        return (
            select(func.count())
            .select_from(model)
            .where(model.workspace_id == workspace_id, model.client_id == client_id)
            .scalar_subquery()
        )

    row = db.session.execute(
        select(
            count(Invoice).label("invoices"),
            count(Opportunity).label("opportunities"),
            count(HourPack).label("hour_packs"),
            count(InvoiceTemplate).label("templates"),
        )
    ).one()
    return {key: value for key, value in row._asdict().items() if value}


def delete_client(
    workspace_id: int, client_id: int, *, user_id: int | None = None
) -> None:
    """Delete a client with its projects and interactions; caller commits.

    Raises :class:`ClientInUseError` when invoices or other records refer to
    it: such a client is archived instead.
    """
    client = _require_client(workspace_id, client_id)
    if deletion_blockers(workspace_id, client.id):
        raise ClientInUseError(client.id)

    db.session.execute(
        delete(Interaction).where(
            Interaction.workspace_id == workspace_id,
            Interaction.client_id == client.id,
        )
    )
    db.session.execute(
        delete(Project).where(
            Project.workspace_id == workspace_id, Project.client_id == client.id
        )
    )
    db.session.delete(client)
    db.session.flush()
    logger.info(
        "client %s deleted in workspace %s by user %s", client_id, workspace_id, user_id
    )


def regions_in_use(workspace_id: int) -> list[str]:
    """Region codes of the workspace's tax rates and clients, for suggestions."""
    rates = select(TaxRate.region).where(
        TaxRate.workspace_id == workspace_id, TaxRate.region != ""
    )
    clients = select(Client.region).where(
        Client.workspace_id == workspace_id, Client.region != ""
    )
    return sorted(set(db.session.scalars(rates.union(clients))))


# ---------------------------------------------------------------------------
# Card figures


@dataclass(frozen=True)
class ClientCard:
    """One client as its card shows it, with figures computed in SQL."""

    id: int
    name: str
    company: str
    email: str
    status: str
    region: str
    archived: bool
    active_projects: int
    #: Issued invoices in the workspace's currency, credit notes included.
    revenue_minor: int
    #: Issued invoices in another currency, left out of ``revenue_minor``.
    other_currency_invoices: int
    last_interaction_at: datetime | None


@dataclass(frozen=True)
class CardPage:
    """One page of client cards and where it sits in the whole list."""

    cards: list[ClientCard]
    total: int
    page: int
    per_page: int
    currency: str

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.per_page, self.total)


def _figures(workspace_id: int, currency: str, client_id) -> dict[str, Any]:
    """The card figures of the client ``client_id`` (a column) as subqueries.

    Each is a correlated subquery that reads only that client's rows through
    an index that starts with the client (or the workspace and the client),
    so its cost does not depend on the planner guessing table sizes right.
    Billed to date comes from the totals the database keeps per client
    (:class:`ClientRevenue`), one row per currency, so it costs the same for
    a client of ten invoices and one of ten thousand.
    """
    billed = (
        ClientRevenue.workspace_id == workspace_id,
        ClientRevenue.client_id == client_id,
    )
    return {
        "active_projects": select(func.count(Project.id))
        .where(
            Project.client_id == client_id,
            Project.status == ProjectStatus.ACTIVE.value,
        )
        .scalar_subquery(),
        "revenue_minor": select(
            cast(func.coalesce(func.sum(ClientRevenue.invoiced_minor), 0), BigInteger)
        )
        .where(*billed, ClientRevenue.currency == currency)
        .scalar_subquery(),
        "other_currency_invoices": select(
            func.coalesce(func.sum(ClientRevenue.issued_count), 0)
        )
        .where(*billed, ClientRevenue.currency != currency)
        .scalar_subquery(),
        "last_interaction_at": select(func.max(Interaction.occurred_at))
        .where(Interaction.client_id == client_id)
        .scalar_subquery(),
    }


def _cards_select(workspace_id: int, currency: str) -> Select:
    figures = _figures(workspace_id, currency, Client.id)
    return select(
        Client.id,
        Client.name,
        Client.company,
        Client.email,
        Client.status,
        Client.region,
        Client.archived,
        *(expression.label(name) for name, expression in figures.items()),
    ).where(Client.workspace_id == workspace_id)


def _card(row) -> ClientCard:
    return ClientCard(
        id=row.id,
        name=row.name,
        company=row.company,
        email=row.email,
        status=row.status,
        region=row.region,
        archived=row.archived,
        active_projects=int(row.active_projects),
        revenue_minor=int(row.revenue_minor),
        other_currency_invoices=int(row.other_currency_invoices),
        last_interaction_at=row.last_interaction_at,
    )


def _filters(workspace_id: int, search: str, status: str | None, view: str) -> list:
    conditions = [Client.workspace_id == workspace_id]
    if view == "current":
        conditions.append(Client.archived.is_(False))
    elif view == "archived":
        conditions.append(Client.archived.is_(True))
    if status:
        conditions.append(Client.status == status)
    term = fold(search.strip())
    if term:
        conditions.append(
            fold_sql(Client.name).contains(term, autoescape=True)
            | fold_sql(Client.company).contains(term, autoescape=True)
        )
    return conditions


def _workspace_currency(workspace_id: int) -> str:
    workspace = db.session.get(Workspace, workspace_id)
    return workspace.currency if workspace is not None else "EUR"


def client_cards(
    workspace_id: int,
    *,
    search: str = "",
    status: str | None = None,
    view: str = "current",
    sort: str = "name",
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    currency: str | None = None,
) -> CardPage:
    """One page of client cards, filtered and sorted, in two SQL queries.

    ``search`` matches name or company ignoring case and accents; ``status``
    is a :class:`ClientStatus` value or None for all; ``view`` is "current"
    (not archived), "archived" or "all"; ``sort`` is "name", "revenue" or
    "last_interaction". A page past the end gives the last page. Revenue is
    counted in ``currency``, by default the workspace's.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}")
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    if status is not None and status not in {s.value for s in ClientStatus}:
        raise ValueError(f"unknown status {status!r}")
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    currency = currency or _workspace_currency(workspace_id)
    _prepare_fold()
    conditions = _filters(workspace_id, search, status, view)

    total = db.session.scalar(select(func.count(Client.id)).where(*conditions)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)

    # The page's clients are picked first, so the figures are computed for
    # them only; a sort by a figure computes that one for every client.
    name_key = fold_sql(Client.name)
    if sort == "name":
        order = [name_key, Client.id]
    else:
        key = _figures(workspace_id, currency, Client.id)[
            "revenue_minor" if sort == "revenue" else "last_interaction_at"
        ]
        order = [key.is_(None), key.desc(), name_key, Client.id]
    position = func.row_number().over(order_by=order).label("position")
    picked = (
        select(Client.id.label("client_id"), position)
        .where(*conditions)
        .order_by(position)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .subquery("picked")
    )
    query = (
        _cards_select(workspace_id, currency)
        .join(picked, picked.c.client_id == Client.id)
        .order_by(picked.c.position)
    )
    rows = db.session.execute(query).all()
    return CardPage(
        cards=[_card(row) for row in rows],
        total=total,
        page=page,
        per_page=per_page,
        currency=currency,
    )


def client_figures(
    workspace_id: int, client_id: int, *, currency: str | None = None
) -> ClientCard | None:
    """The card of one client, or None when it is not in the workspace."""
    currency = currency or _workspace_currency(workspace_id)
    row = db.session.execute(
        _cards_select(workspace_id, currency).where(Client.id == client_id)
    ).one_or_none()
    return _card(row) if row is not None else None


# ---------------------------------------------------------------------------
# Projects


def _clean_project(data: Mapping[str, Any], *, partial: bool) -> dict:
    unknown = set(data) - {"name", "status", "start_date", "end_date"}
    if unknown:
        raise ValidationError({f: [_l("Unknown field.")] for f in sorted(unknown)})

    errors: dict[str, list[Any]] = {}
    clean: dict[str, Any] = {}
    if "name" in data or not partial:
        clean["name"] = _clean_text(
            errors, "name", data.get("name"), PROJECT_NAME_MAX, required=True
        )
    if "status" in data or not partial:
        status = str(data.get("status") or "active").strip().lower()
        if status not in {s.value for s in ProjectStatus}:
            errors.setdefault("status", []).append(
                _l("Choose active, paused, completed or cancelled.")
            )
        clean["status"] = status
    for field in ("start_date", "end_date"):
        if field in data or not partial:
            value = data.get(field)
            if value is not None and not isinstance(value, date):
                errors.setdefault(field, []).append(_l("Enter a valid date."))
            clean[field] = value
    if errors:
        raise ValidationError(errors)
    return clean


def _check_dates(project: Project) -> None:
    if (
        project.start_date
        and project.end_date
        and project.end_date < project.start_date
    ):
        raise ValidationError(
            {"end_date": [_l("The end date cannot be before the start date.")]}
        )


def create_project(
    workspace_id: int,
    client_id: int,
    data: Mapping[str, Any],
    *,
    user_id: int | None = None,
) -> Project:
    """A new project of the client: name, status, start and end dates."""
    client = _require_client(workspace_id, client_id)
    clean = _clean_project(data, partial=False)
    project = Project(workspace_id=workspace_id, client_id=client.id, **clean)
    _check_dates(project)

    db.session.add(project)
    db.session.flush()
    logger.info(
        "project %s of client %s created by user %s", project.id, client.id, user_id
    )
    return project


def get_project(workspace_id: int, client_id: int, project_id: int) -> Project | None:
    """The project ``project_id`` of that client of the workspace, or None."""
    return db.session.scalar(
        select(Project).where(
            Project.workspace_id == workspace_id,
            Project.client_id == client_id,
            Project.id == project_id,
        )
    )


def update_project(
    workspace_id: int,
    client_id: int,
    project_id: int,
    data: Mapping[str, Any],
    *,
    user_id: int | None = None,
) -> Project:
    """Change the fields of a project present in ``data``; caller commits."""
    project = get_project(workspace_id, client_id, project_id)
    if project is None:
        raise ClientNotFound(project_id)
    clean = _clean_project(data, partial=True)
    before = {field: getattr(project, field) for field in clean}
    for field, value in clean.items():
        setattr(project, field, value)
    try:
        _check_dates(project)
    except ValidationError:
        for field, value in before.items():
            setattr(project, field, value)
        raise

    db.session.flush()
    logger.info("project %s updated by user %s", project.id, user_id)
    return project


_PROJECT_ORDER = case(
    {"active": 0, "paused": 1, "completed": 2, "cancelled": 3},
    value=Project.status,
    else_=4,
)


def projects_of(workspace_id: int, client_id: int) -> list[Project]:
    """The client's projects, active first, newest first within a status."""
    return list(
        db.session.scalars(
            select(Project)
            .where(Project.workspace_id == workspace_id, Project.client_id == client_id)
            .order_by(_PROJECT_ORDER, Project.created_at.desc(), Project.id.desc())
        )
    )


# ---------------------------------------------------------------------------
# Interactions


def interaction_moment(workspace: Workspace, day: date) -> datetime:
    """When an interaction logged for ``day`` happened, as an aware UTC time.

    Today means now, so it becomes the latest one; an earlier day means noon
    in the workspace's time zone, which keeps the date whatever the zone.
    """
    tz = zone(workspace)
    now = datetime.now(UTC)
    if day == now.astimezone(tz).date():
        return now
    return datetime.combine(day, time(12), tzinfo=tz).astimezone(UTC)


def add_interaction(
    workspace_id: int,
    client_id: int,
    kind: str,
    summary: str,
    *,
    occurred_at: datetime | None = None,
    user_id: int | None = None,
) -> Interaction:
    """Record a call, email, meeting or note; it moves "last interaction"."""
    client = _require_client(workspace_id, client_id)
    errors: dict[str, list[Any]] = {}
    kind = str(kind or "").strip().lower()
    if kind not in {k.value for k in InteractionKind}:
        errors["kind"] = [_l("Choose call, email, meeting or note.")]
    text = _clean_text(
        errors, "summary", summary, SUMMARY_MAX, multiline=True, required=True
    )
    moment = occurred_at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("occurred_at must be an aware datetime")
    if moment > datetime.now(UTC) + timedelta(minutes=5):
        errors["occurred_at"] = [_l("An interaction cannot be in the future.")]
    if errors:
        raise ValidationError(errors)

    interaction = Interaction(
        workspace_id=workspace_id,
        client_id=client.id,
        kind=kind,
        summary=text,
        occurred_at=moment,
        user_id=user_id,
    )
    db.session.add(interaction)
    db.session.flush()
    logger.info(
        "%s interaction %s logged for client %s by user %s",
        kind,
        interaction.id,
        client.id,
        user_id,
    )
    return interaction


@dataclass(frozen=True)
class InteractionRow:
    """An interaction with the display name of who logged it."""

    id: int
    kind: str
    occurred_at: datetime
    summary: str
    author: str | None


def interactions_of(
    workspace_id: int, client_id: int, *, limit: int = 50
) -> list[InteractionRow]:
    """The client's latest interactions, newest first."""
    rows = db.session.execute(
        select(Interaction, User.display_name)
        .outerjoin(User, User.id == Interaction.user_id)
        .where(
            Interaction.workspace_id == workspace_id,
            Interaction.client_id == client_id,
        )
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
    ).all()
    return [
        InteractionRow(i.id, i.kind, i.occurred_at, i.summary, author)
        for i, author in rows
    ]


def send_message(
    workspace_id: int,
    client_id: int,
    subject: str,
    body: str,
    *,
    user_id: int | None = None,
    reply_to: str | None = None,
) -> Interaction:
    """Email the client's contact and record it as an email interaction.

    Raises :class:`ValidationError` for an empty subject or body or a client
    without an email address, and ``MailError`` when the mail server refuses
    or cannot be reached; in both cases nothing is recorded.
    """
    client = _require_client(workspace_id, client_id)
    errors: dict[str, list[Any]] = {}
    subject = _clean_text(errors, "subject", subject, SUBJECT_MAX, required=True)
    body = _clean_text(errors, "body", body, BODY_MAX, multiline=True, required=True)
    if not client.email:
        errors["email"] = [_l("This client has no email address.")]
    if errors:
        raise ValidationError(errors)

    send_mail(client.email, subject, body, reply_to=reply_to or None)
    summary = f"{subject}\n\n{body}"[:SUMMARY_MAX]
    return add_interaction(
        workspace_id, client.id, InteractionKind.EMAIL, summary, user_id=user_id
    )


# ---------------------------------------------------------------------------
# What other areas hold about a client, read-only


@dataclass(frozen=True)
class InvoiceRow:
    """An invoice of a client with its derived status (paid, pending, ...)."""

    id: int
    number: str | None
    issue_date: date | None
    due_date: date | None
    total_minor: int
    currency: str
    status: str


def invoices_of(workspace_id: int, client_id: int, *, today: date) -> list[InvoiceRow]:
    """The client's invoices: drafts first, then by issue date, newest first.

    The status follows billing's rules as of ``today`` in the workspace's zone.
    """
    rows = db.session.execute(
        select(
            Invoice.id,
            Invoice.number,
            Invoice.issue_date,
            Invoice.due_date,
            Invoice.total_minor,
            Invoice.currency,
            invoice_status_expr(today).label("status"),
        )
        .where(Invoice.workspace_id == workspace_id, Invoice.client_id == client_id)
        .order_by(
            Invoice.issue_date.is_(None).desc(),
            Invoice.issue_date.desc(),
            Invoice.id.desc(),
        )
    ).all()
    return [InvoiceRow(*row) for row in rows]


def opportunities_of(workspace_id: int, client_id: int) -> list[Opportunity]:
    """The client's opportunities: open ones first, newest first."""
    is_open = Opportunity.stage.in_([s.value for s in OPEN_STAGES])
    return list(
        db.session.scalars(
            select(Opportunity)
            .where(
                Opportunity.workspace_id == workspace_id,
                Opportunity.client_id == client_id,
            )
            .order_by(is_open.desc(), Opportunity.created_at.desc(), Opportunity.id)
        )
    )
