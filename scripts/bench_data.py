"""The benchmark's dataset: one large agency beside many small ones, bulk-loaded.

Rows are generated in Python from a fixed seed and written with the fastest
plain path of each database: ``executemany`` of prepared inserts on SQLite,
``COPY`` on PostgreSQL. Ids are chosen here, so payments can point at their
invoices without reading anything back.
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from host_stub.extensions import db
from host_stub.models import Membership, User, Workspace
from host_stub.plugin_state import set_enabled

#: Log-in of the large agency's owner; the bench signs in with it.
OWNER_EMAIL = "owner@bench.example"
OWNER_PASSWORD = "bench-pass-2026"
AGENCY_SLUG = "bench-agency"

CHUNK = 20_000

STAGES = (
    ("prospect", 10, 25),
    ("qualified", 25, 20),
    ("proposal", 50, 15),
    ("negotiation", 75, 10),
    ("won", 100, 15),
    ("lost", 0, 15),
)
PROJECT_STATUSES = ("active", "active", "paused", "completed", "cancelled")


@dataclass(frozen=True)
class Scale:
    """How much data one run builds."""

    invoices: int
    clients: int = 2_000
    opportunities: int = 20_000
    other_workspaces: int = 50
    years: int = 5

    def small(self) -> Scale:
        """The size of each of the other workspaces."""
        return Scale(
            invoices=max(20, self.invoices // 500),
            clients=40,
            opportunities=100,
            other_workspaces=0,
            years=self.years,
        )


@dataclass
class Counts:
    """Rows written per table, for the report."""

    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


class Progress:
    """One line on stderr that says how far the load has come."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.started = time.perf_counter()
        self.last_shown = 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last_shown > 0.5 or self.done >= self.total:
            self.last_shown = now
            percent = 100 * self.done / self.total if self.total else 100
            sys.stderr.write(
                f"\r  {self.label}: {self.done:,}/{self.total:,} "
                f"({percent:.0f} %) {now - self.started:.1f} s   "
            )
            sys.stderr.flush()

    def finish(self) -> None:
        self.advance(0)
        sys.stderr.write("\n")


class _QuietProgress:
    """Progress that says nothing, for the many small workspaces."""

    def advance(self, n: int) -> None:
        return None

    def finish(self) -> None:
        return None


class Writer:
    """Bulk writes through one connection, in the database's own fast path."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"

    def write(
        self, table: str, columns: Sequence[str], rows: Iterable[tuple], progress
    ) -> int:
        written = 0
        for chunk in _chunks(rows, CHUNK):
            if self.postgres:
                self._copy(table, columns, chunk)
            else:
                self._insert(table, columns, chunk)
            written += len(chunk)
            progress.advance(len(chunk))
        return written

    def _copy(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        raw = self.connection.connection.driver_connection
        names = ", ".join(columns)
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def _insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        insert = sa.insert(sa.table(table, *(sa.column(c) for c in columns)))
        statement = str(insert.compile(dialect=self.connection.dialect))
        # The driver's own executemany skips SQLAlchemy's type processing, so
        # values are written the way SQLAlchemy stores them on SQLite.
        self.connection.exec_driver_sql(statement, [_sqlite_row(r) for r in rows])


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _sqlite_row(row: tuple) -> tuple:
    return tuple(_sqlite_value(v) for v in row)


def _chunks(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class Ids:
    """The next free id of each table, so rows can refer to each other."""

    def __init__(self, connection: sa.Connection, tables: Iterable[str]) -> None:
        self.next: dict[str, int] = {}
        for table in tables:
            top = connection.scalar(
                sa.select(sa.func.max(sa.column("id"))).select_from(sa.table(table))
            )
            self.next[table] = (top or 0) + 1

    def take(self, table: str, n: int) -> range:
        first = self.next[table]
        self.next[table] = first + n
        return range(first, first + n)


TABLES = (
    "clientflow_clients",
    "clientflow_projects",
    "clientflow_invoices",
    "clientflow_payments",
    "clientflow_opportunities",
)


def _utc(day: date) -> datetime:
    """A moment on ``day`` written as AwareDateTime stores it: UTC, no offset."""
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC).replace(
        tzinfo=None
    )


def _client_rows(ws: int, ids: range, rng: random.Random, created: datetime):
    for n, client_id in enumerate(ids):
        archived = rng.random() < 0.05
        yield (
            client_id,
            ws,
            f"Client {n + 1:04d}",
            f"Company {n + 1:04d} S.L.",
            f"billing{n + 1}@client.example",
            "",
            "",
            "",
            "ES",
            "active",
            archived,
            created,
        )


CLIENT_COLUMNS = (
    "id",
    "workspace_id",
    "name",
    "company",
    "email",
    "phone",
    "website",
    "address",
    "region",
    "status",
    "archived",
    "created_at",
)


def _project_rows(ws: int, clients: range, ids: Ids, rng, created, counts: Counts):
    rows = []
    for client_id in clients:
        for n in range(rng.randint(0, 3)):
            rows.append(
                (
                    ws,
                    client_id,
                    f"Project {n + 1}",
                    rng.choice(PROJECT_STATUSES),
                    created,
                )
            )
    project_ids = ids.take("clientflow_projects", len(rows))
    counts.add("clientflow_projects", len(rows))
    return [(pid, *row) for pid, row in zip(project_ids, rows, strict=True)]


PROJECT_COLUMNS = ("id", "workspace_id", "client_id", "name", "status", "created_at")

INVOICE_COLUMNS = (
    "id",
    "workspace_id",
    "client_id",
    "state",
    "number",
    "series",
    "currency",
    "issue_date",
    "due_date",
    "discount_minor",
    "subtotal_minor",
    "tax_minor",
    "total_minor",
    "terms",
    "created_at",
    "issued_at",
    "void_reason",
)

PAYMENT_COLUMNS = (
    "id",
    "workspace_id",
    "invoice_id",
    "paid_on",
    "amount_minor",
    "method",
    "created_at",
)


def _invoices_and_payments(
    ws: int,
    clients: Sequence[int],
    n: int,
    today: date,
    years: int,
    ids: Ids,
    rng: random.Random,
) -> tuple[list[tuple], list[tuple]]:
    """Invoices over ``years`` up to ``today``, oldest first, and their payments.

    A few clients bring most of the revenue; older invoices are mostly paid,
    recent ones often not yet; some voided invoices keep a payment, which the
    dashboard must leave out.
    """
    span = years * 365
    weights = list(
        itertools.accumulate(1 / (i + 1) ** 0.8 for i in range(len(clients)))
    )
    chosen = rng.choices(clients, cum_weights=weights, k=n)
    offsets = sorted(rng.randrange(span) for _ in range(n))
    invoice_ids = ids.take("clientflow_invoices", n)
    invoices, payments = [], []
    for invoice_id, client_id, offset in zip(invoice_ids, chosen, offsets, strict=True):
        issued = today - timedelta(days=span - 1 - offset)
        total = rng.randrange(5_000, 800_000)
        subtotal = round(total / 1.21)
        roll = rng.random()
        state = "draft" if roll < 0.005 else "void" if roll < 0.02 else "issued"
        draft = state == "draft"
        invoices.append(
            (
                invoice_id,
                ws,
                client_id,
                state,
                None if draft else f"{issued.year}-{invoice_id:07d}",
                "own",
                "EUR",
                None if draft else issued,
                None if draft else issued + timedelta(days=30),
                0,
                subtotal,
                total - subtotal,
                total,
                "",
                _utc(issued),
                None if draft else _utc(issued),
                "Issued by mistake" if state == "void" else "",
            )
        )
        if draft:
            continue
        for paid_on, amount in _payments_of(issued, total, state, today, rng):
            payments.append(
                (ws, invoice_id, paid_on, amount, "transfer", _utc(paid_on))
            )
    payment_ids = ids.take("clientflow_payments", len(payments))
    return invoices, [
        (pid, *row) for pid, row in zip(payment_ids, payments, strict=True)
    ]


def _payments_of(issued: date, total: int, state: str, today: date, rng):
    def paid_day(days: int) -> date:
        return min(today, issued + timedelta(days=days))

    if state == "void":
        if rng.random() < 0.2:
            yield paid_day(rng.randint(0, 20)), total
        return
    recent = (today - issued).days < 90
    roll = rng.random()
    fully, partly = (0.5, 0.65) if recent else (0.93, 0.98)
    if roll < fully:
        if rng.random() < 0.2:
            first = total // 3
            yield paid_day(rng.randint(0, 20)), first
            yield paid_day(rng.randint(21, 60)), total - first
        else:
            yield paid_day(rng.randint(0, 45)), total
    elif roll < partly:
        yield paid_day(rng.randint(0, 45)), total // 2


OPPORTUNITY_COLUMNS = (
    "id",
    "workspace_id",
    "client_id",
    "prospect_name",
    "prospect_company",
    "title",
    "proposal_url",
    "value_minor",
    "probability",
    "next_step",
    "stage",
    "position",
    "lost_note",
    "notes",
    "created_at",
)


def _opportunity_rows(ws: int, clients: Sequence[int], n: int, ids: Ids, rng, created):
    stages = [s for s, _, _ in STAGES]
    weights = [w for _, _, w in STAGES]
    probability = {s: p for s, p, _ in STAGES}
    for position, opportunity_id in enumerate(ids.take("clientflow_opportunities", n)):
        stage = rng.choices(stages, weights=weights)[0]
        yield (
            opportunity_id,
            ws,
            rng.choice(clients) if rng.random() < 0.6 else None,
            f"Prospect {position + 1}",
            "",
            f"Website and campaign {position + 1}",
            "",
            rng.randrange(100_000, 5_000_000),
            probability[stage],
            "Call back",
            stage,
            position,
            "",
            "",
            created,
        )


def _workspace(slug: str, name: str) -> Workspace:
    workspace = Workspace(
        slug=slug, name=name, timezone="Europe/Madrid", currency="EUR", language="en"
    )
    db.session.add(workspace)
    db.session.commit()
    set_enabled(workspace, "clientflow", True, by=None)
    return workspace


def _fill_workspace(
    writer: Writer,
    ids: Ids,
    ws: int,
    scale: Scale,
    today: date,
    rng: random.Random,
    counts: Counts,
    progress: Callable[[str, int], Progress],
) -> None:
    created = _utc(today - timedelta(days=scale.years * 365))
    client_ids = ids.take("clientflow_clients", scale.clients)
    show = progress("clients and projects", scale.clients)
    counts.add(
        "clientflow_clients",
        writer.write(
            "clientflow_clients",
            CLIENT_COLUMNS,
            _client_rows(ws, client_ids, rng, created),
            show,
        ),
    )
    projects = _project_rows(ws, client_ids, ids, rng, created, counts)
    writer.write("clientflow_projects", PROJECT_COLUMNS, projects, _QuietProgress())
    show.finish()

    invoices, payments = _invoices_and_payments(
        ws, list(client_ids), scale.invoices, today, scale.years, ids, rng
    )
    show = progress("invoices", len(invoices))
    counts.add(
        "clientflow_invoices",
        writer.write("clientflow_invoices", INVOICE_COLUMNS, invoices, show),
    )
    show.finish()
    show = progress("payments", len(payments))
    counts.add(
        "clientflow_payments",
        writer.write("clientflow_payments", PAYMENT_COLUMNS, payments, show),
    )
    show.finish()
    show = progress("opportunities", scale.opportunities)
    counts.add(
        "clientflow_opportunities",
        writer.write(
            "clientflow_opportunities",
            OPPORTUNITY_COLUMNS,
            _opportunity_rows(
                ws, list(client_ids), scale.opportunities, ids, rng, created
            ),
            show,
        ),
    )
    show.finish()


def build(scale: Scale, today: date, *, seed: int = 2026, quiet: bool = False) -> int:
    """Fill the app's database; returns the large agency's workspace id.

    Runs inside an app context whose database holds the migrated, empty schema.
    """
    rng = random.Random(seed)
    counts = Counts()

    def progress(label: str, total: int) -> Progress | _QuietProgress:
        return _QuietProgress() if quiet else Progress(label, total)

    owner = User(email=OWNER_EMAIL, display_name="Bench Owner", language="en")
    owner.set_password(OWNER_PASSWORD)
    db.session.add(owner)
    agency = _workspace(AGENCY_SLUG, "Bench Agency")
    db.session.add(Membership(user=owner, workspace=agency, role="agency_owner"))
    others = [
        _workspace(f"bench-other-{n:02d}", f"Other Agency {n:02d}")
        for n in range(scale.other_workspaces)
    ]
    db.session.commit()
    agency_id, other_ids = agency.id, [w.id for w in others]
    # The session's own transaction would hold SQLite's lock against the load.
    db.session.close()

    with db.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # The load is one transaction; a crash mid-way means building again.
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
        writer = Writer(connection)
        ids = Ids(connection, TABLES)
        if not quiet:
            print(f"agency {AGENCY_SLUG}", file=sys.stderr)
        _fill_workspace(writer, ids, agency_id, scale, today, rng, counts, progress)
        small = scale.small()
        if others and not quiet:
            print(f"{len(others)} other workspaces", file=sys.stderr)
        overall = progress("other workspaces", len(others))
        for other_id in other_ids:
            _fill_workspace(
                writer,
                ids,
                other_id,
                small,
                today,
                rng,
                counts,
                lambda label, total: _QuietProgress(),
            )
            overall.advance(1)
        if others:
            overall.finish()
        if writer.postgres:
            for table in TABLES:
                # Ids were chosen here; the sequences must go on after them.
                # The names are this module's constants, never input.
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
    _analyze()
    return agency_id


def _analyze() -> None:
    """Fresh planner statistics, and on PostgreSQL the visibility map that
    index-only scans rely on, as autovacuum would leave them."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
