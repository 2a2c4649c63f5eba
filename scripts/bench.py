"""How fast ClientFlow's main pages answer on a large agency's books.

``python -m scripts.bench`` (or ``make bench``) builds, on SQLite and on a
throw-away PostgreSQL server on loopback, one agency with 2,000 clients,
1,000,000 invoices over five years with their payments and 20,000
opportunities, beside 50 smaller workspaces; then it signs in as the agency's
owner with Flask's test client and, for each page that exists, reports:

- the median and 95th percentile of the server time over ``--requests``
  requests, after a few to warm up;
- the number of SQL statements of one request;
- the floor: the same statements with the same parameters run straight on
  the driver's cursor, and the page's time as a multiple of it;
- the same at ``--baseline-invoices`` (10,000), and the growth ratio of the
  large median to the small one.

It prints a table and writes everything to ``bench-results/bench.json``.
The bench is not a test and nothing under ``tests/`` runs it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import url_for

from host_stub import create_app, migrating
from host_stub.extensions import db
from scripts import bench_data

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
AGENCY_ZONE = ZoneInfo("Europe/Madrid")

#: (name, endpoint, query string) of what is measured; pages other engineers
#: have not built yet are skipped with a note.
PAGES = (
    ("dashboard", "clientflow.dashboard.index", ""),
    ("dashboard, last 12 months", "clientflow.dashboard.index", "?period=12m"),
    ("dashboard monthly.json", "clientflow.dashboard.monthly_chart", ""),
    ("dashboard clients.json", "clientflow.dashboard.clients_chart", ""),
    ("dashboard yoy.json", "clientflow.dashboard.comparison_chart", ""),
    ("clients page", "clientflow.clients.index", ""),
    ("invoices page", "clientflow.billing.invoices", ""),
    ("pipeline board", "clientflow.pipeline.board", ""),
)

TARGET_MEDIAN_MS = 150.0
TARGET_FLOOR_RATIO = 3.0
TARGET_GROWTH = 3.0

WARM_UP = 3


@dataclass
class Measure:
    page: str
    url: str
    status: int
    requests: int
    median_ms: float
    p95_ms: float
    queries: int
    floor_ms: float
    floor_ratio: float
    note: str = ""


@dataclass
class Run:
    database: str
    invoices: int
    rows: dict[str, int]
    build_seconds: float
    measures: list[Measure] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


# -- databases ---------------------------------------------------------------


@contextmanager
def postgres_server(port: int):
    """A throw-away PostgreSQL cluster on loopback, as scripts/with-postgres.sh
    starts one; yields the URL of its ``postgres`` database."""
    bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not bindirs or not (bindirs[-1] / "postgres").exists():
        raise SystemExit("PostgreSQL not found: run scripts/with-postgres.sh once")
    bindir = bindirs[-1]
    as_root = os.geteuid() == 0

    def run(*args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", *args] if as_root else list(args)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    workdir = Path(tempfile.mkdtemp(prefix="clientflow-bench-pg."))
    workdir.chmod(0o755)
    if as_root:
        shutil.chown(workdir, "postgres")
    data = workdir / "data"
    # fsync and friends are off because the data is rebuilt on every run;
    # random_page_cost suits the SSD-backed page cache the data lives in.
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50 "
        "-c shared_buffers=256MB -c random_page_cost=1.1 -c work_mem=16MB"
    )
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(workdir / "server.log"),
            "-w",
            "-o",
            options,
            "start",
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", options
    finally:
        stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        if as_root:
            stop = ["runuser", "-u", "postgres", "--", *stop]
        subprocess.run(stop, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


def fresh_postgres_database(server_url: str, name: str) -> str:
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def fresh_sqlite_database(workdir: Path, name: str) -> str:
    path = workdir / f"{name}.db"
    for leftover in workdir.glob(f"{name}.db*"):
        leftover.unlink()
    return f"sqlite:///{path}"


# -- measuring ---------------------------------------------------------------


class StatementLog:
    """Every statement a request sends, with its parameters and connection."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, object]] = []
        self.driver_connection = None

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append((statement, parameters))
        self.driver_connection = conn.connection.dbapi_connection

    @contextmanager
    def recording(self):
        self.statements = []
        sa.event.listen(db.engine, "before_cursor_execute", self)
        try:
            yield self.statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", self)


def floor_of(recorded: StatementLog, runs: int) -> float:
    """Median time of the statements run straight on the driver, in ms.

    They run on the very connection the request used, which has whatever
    functions the application registered on it (SQLite's accent folding).
    """
    raw = recorded.driver_connection
    times = []
    for n in range(runs + WARM_UP):
        cursor = raw.cursor()
        started = time.perf_counter()
        for statement, parameters in recorded.statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
        elapsed = time.perf_counter() - started
        cursor.close()
        raw.rollback()
        if n >= WARM_UP:
            times.append(elapsed * 1000)
    return statistics.median(times)


def measure_page(client, name: str, url: str, requests: int, budget: float) -> Measure:
    for _ in range(WARM_UP):
        response = client.get(url)
        if response.status_code != 200:
            log(f"    {name}: {url} answered {response.status_code}")
            return Measure(name, url, response.status_code, 0, 0, 0, 0, 0, 0)
    log(f"    {name}: {url}")
    times, started_all = [], time.perf_counter()
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if budget and time.perf_counter() - started_all > budget:
            break
    recorder = StatementLog()
    with recorder.recording() as statements:
        client.get(url)
    floor = floor_of(recorder, len(times))
    median = statistics.median(times)
    note = "" if len(times) >= requests else f"stopped after {budget:.0f} s"
    return Measure(
        page=name,
        url=url,
        status=200,
        requests=len(times),
        median_ms=round(median, 2),
        p95_ms=round(percentile(times, 0.95), 2),
        queries=len(statements),
        floor_ms=round(floor, 2),
        floor_ratio=round(median / floor, 2) if floor else 0.0,
        note=note,
    )


def bench_one(
    database: str,
    url: str,
    scale: bench_data.Scale,
    today: date,
    requests: int,
    budget: float,
) -> Run:
    instance = Path(tempfile.mkdtemp(prefix="clientflow-bench-instance."))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret",
            "INSTANCE_PATH": str(instance),
            "WTF_CSRF_ENABLED": False,
            "CLIENTFLOW_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        }
    )
    try:
        with app.app_context():
            log(f"  {database}: schema")
            migrating.upgrade()
            log(f"  {database}: {scale.invoices:,} invoices")
            started = time.perf_counter()
            bench_data.build(scale, today)
            built = time.perf_counter() - started
            rows = table_counts()
            log(f"  {database}: built in {built:.0f} s; measuring")
            run = Run(database, scale.invoices, rows, round(built, 1))

            client = app.test_client()
            response = client.post(
                "/login",
                data={
                    "email": bench_data.OWNER_EMAIL,
                    "password": bench_data.OWNER_PASSWORD,
                },
            )
            if response.status_code != 302:
                raise SystemExit("the bench owner could not sign in")
            for name, endpoint, query in PAGES:
                if endpoint not in app.view_functions:
                    run.skipped[name] = f"{endpoint} does not exist yet"
                    continue
                with app.test_request_context():
                    path = url_for(endpoint, workspace=bench_data.AGENCY_SLUG)
                measure = measure_page(client, name, path + query, requests, budget)
                if measure.status != 200:
                    run.skipped[name] = f"answered {measure.status}"
                    continue
                run.measures.append(measure)
            db.session.remove()
            db.engine.dispose()
        return run
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def table_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            table: connection.scalar(
                sa.select(sa.func.count()).select_from(sa.table(table))
            )
            for table in ("workspaces", *bench_data.TABLES)
        }


# -- reporting ---------------------------------------------------------------


def growth_rows(runs: list[Run]) -> list[dict]:
    """One row per database and page: the small and large runs side by side."""
    rows = []
    by_key = {(r.database, r.invoices): r for r in runs}
    databases = sorted({r.database for r in runs}, key=["sqlite", "postgresql"].index)
    sizes = sorted({r.invoices for r in runs})
    small_size, large_size = sizes[0], sizes[-1]
    for database in databases:
        small, large = by_key[(database, small_size)], by_key[(database, large_size)]
        small_measures = {m.page: m for m in small.measures}
        for measure in large.measures:
            before = small_measures.get(measure.page)
            rows.append(
                {
                    "database": database,
                    "page": measure.page,
                    "small": asdict(before) if before else None,
                    "large": asdict(measure),
                    "growth": round(measure.median_ms / before.median_ms, 2)
                    if before and before.median_ms
                    else None,
                }
            )
    return rows


def print_table(rows: list[dict], small: int, large: int) -> None:
    header = (
        f"{'database':<11}{'page':<27}{'med ' + short(small):>10}"
        f"{'med ' + short(large):>11}{'p95 ' + short(large):>11}{'queries':>9}"
        f"{'floor':>11}{'×floor':>8}{'growth':>9}"
    )
    print()
    print(header)
    print("-" * len(header))
    for row in rows:
        large_m, small_m = row["large"], row["small"] or {}
        print(
            f"{row['database']:<11}{row['page']:<27}"
            f"{small_m.get('median_ms', 0):>8.1f}ms"
            f"{large_m['median_ms']:>9.1f}ms{large_m['p95_ms']:>9.1f}ms"
            f"{queries_text(small_m, large_m):>9}"
            f"{large_m['floor_ms']:>9.1f}ms{large_m['floor_ratio']:>7.2f}×"
            f"{row['growth'] or 0:>8.2f}×"
        )


def queries_text(small: dict, large: dict) -> str:
    if not small or small.get("queries") == large["queries"]:
        return str(large["queries"])
    return f"{small['queries']}/{large['queries']}"


def short(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1_000}k"


def verdicts(rows: list[dict]) -> list[dict]:
    """The issue's three targets for the dashboard, per database."""
    found = []
    for row in rows:
        if row["page"] != "dashboard":
            continue
        large = row["large"]
        found.append(
            {
                "database": row["database"],
                "median_under_150_ms": large["median_ms"] < TARGET_MEDIAN_MS,
                "within_3x_floor": large["floor_ratio"] < TARGET_FLOOR_RATIO,
                "growth_under_3": row["growth"] is not None
                and row["growth"] < TARGET_GROWTH,
            }
        )
    return found


def environment(pg_settings: str | None) -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql_settings": pg_settings,
    }


# -- entry point ---------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--baseline-invoices", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 20,000 against 2,000 invoices, 5 other workspaces, "
        "5 requests",
    )
    parser.add_argument("--port", type=int, default=55420)
    parser.add_argument(
        "--page-budget",
        type=float,
        default=0,
        help="seconds one page may take over its requests before the bench moves "
        "on; 0 (the default) measures every request",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "bench.json")
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(args.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown databases: {', '.join(sorted(unknown))}")
    if args.quick:
        args.invoices, args.baseline_invoices, args.requests = 20_000, 2_000, 5
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The app's INFO lines (log-ins, plugin switches) would bury the progress.
    logging.disable(logging.INFO)
    today = datetime.now(AGENCY_ZONE).date()
    others = 5 if args.quick else 50
    scales = [
        bench_data.Scale(invoices=n, other_workspaces=others)
        for n in (args.baseline_invoices, args.invoices)
    ]
    workdir = Path(tempfile.mkdtemp(prefix="clientflow-bench."))
    runs: list[Run] = []
    pg_settings = None
    try:
        for database in args.databases:
            log(f"{database}")
            if database == "sqlite":
                for scale in scales:
                    url = fresh_sqlite_database(workdir, f"bench_{scale.invoices}")
                    runs.append(
                        bench_one(
                            database,
                            url,
                            scale,
                            today,
                            args.requests,
                            args.page_budget,
                        )
                    )
                    for leftover in workdir.glob("*.db*"):
                        leftover.unlink()
            else:
                with postgres_server(args.port) as (server_url, pg_settings):
                    for scale in scales:
                        url = fresh_postgres_database(
                            server_url, f"bench_{scale.invoices}"
                        )
                        runs.append(
                            bench_one(
                                database,
                                url,
                                scale,
                                today,
                                args.requests,
                                args.page_budget,
                            )
                        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rows = growth_rows(runs)
    print_table(rows, args.baseline_invoices, args.invoices)
    skipped = {
        f"{r.database} {short(r.invoices)}: {page}": why
        for r in runs
        for page, why in r.skipped.items()
    }
    for what, why in skipped.items():
        print(f"skipped {what}: {why}")
    found = verdicts(rows)
    for verdict in found:
        reached = [
            f"{target} {'yes' if hit else 'NO'}"
            for target, hit in verdict.items()
            if target != "database"
        ]
        print(f"targets on {verdict['database']}: {', '.join(reached)}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "environment": environment(pg_settings),
                "options": {
                    "invoices": args.invoices,
                    "baseline_invoices": args.baseline_invoices,
                    "requests": args.requests,
                    "databases": args.databases,
                    "other_workspaces": others,
                },
                "targets": {
                    "dashboard_median_ms": TARGET_MEDIAN_MS,
                    "floor_ratio": TARGET_FLOOR_RATIO,
                    "growth_ratio": TARGET_GROWTH,
                },
                "runs": [asdict(r) for r in runs],
                "pages": rows,
                "verdicts": found,
                "skipped": skipped,
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
