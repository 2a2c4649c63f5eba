"""The cron and maintenance commands of ``flask clientflow``.

``run-schedules`` and ``send-reminders`` are safe to run every hour, also
when two runs overlap; each records its run for the scheduler's health.
Domain modules are imported when a command runs, so that ``generate-key``
and ``flask --help`` work whatever state the keys or the database are in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from . import crypto, jobs
from .clock import now_utc

BASE_URL_KEY = "CLIENTFLOW_BASE_URL"


def _require_keys() -> None:
    """Stop before any work when ClientFlow's keys did not load."""
    try:
        crypto.fernet()
    except crypto.EncryptionKeyError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _links_context() -> Iterator[None]:
    """A request context on the public address, so mails can carry links.

    Cron has no request to build absolute URLs from; ``CLIENTFLOW_BASE_URL``
    (e.g. https://app.example.com) gives it one. Without it the commands
    still run, and mails go out without a portal link.
    """
    base_url = current_app.config.get(BASE_URL_KEY)
    if not base_url:
        yield
        return
    with current_app.test_request_context("/", base_url=base_url):
        yield


def _moment(value: datetime | None) -> datetime:
    if value is None:
        return now_utc()
    if value.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2027-01-31T08:00:00+00:00")
    return value


NOW_OPTION = click.option(
    "--now",
    "now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    default=None,
    help="Run as if it were this moment (with its UTC offset); default: now.",
)


@click.command("run-schedules")
@NOW_OPTION
@with_appcontext
def run_schedules_command(now: datetime | None) -> None:
    """Generate the recurring invoices that are due; meant for hourly cron."""
    from .recurrence import run_schedules

    _require_keys()
    moment = _moment(now)
    with jobs.recorded(jobs.RUN_SCHEDULES) as run, _links_context():
        summary = run_schedules(moment, report=click.echo)
        run.summary = summary.line()
    click.echo(summary.line())


@click.command("send-reminders")
@NOW_OPTION
@with_appcontext
def send_reminders_command(now: datetime | None) -> None:
    """Send the overdue reminders due today; meant for hourly cron."""
    from .reminders import send_reminders

    _require_keys()
    moment = _moment(now)
    with jobs.recorded(jobs.SEND_REMINDERS) as run, _links_context():
        summary = send_reminders(moment, report=click.echo)
        run.summary = summary.line()
    click.echo(summary.line())


@click.command("rotate-key")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Rows re-encrypted and committed at a time.",
)
@with_appcontext
def rotate_key_command(batch_size: int) -> None:
    """Re-encrypt every encrypted value under the first configured key.

    Put the new key first in CLIENTFLOW_ENCRYPTION_KEYS, keep the old ones
    after it, run this, then remove the old keys.
    """
    from .key_rotation import rotate_all

    _require_keys()
    if crypto.key_count() < 2:
        click.echo(
            "Only one key is configured: values are checked and kept under it. "
            "To rotate, put the new key first and the old one after it."
        )

    def progress(label: str, seen: int) -> None:
        click.echo(f"{label}: {seen}")

    with jobs.recorded(jobs.ROTATE_KEY) as run:
        try:
            result = rotate_all(batch_size=batch_size, progress=progress)
        except crypto.EncryptionKeyError as exc:
            raise click.ClickException(str(exc)) from exc
        run.summary = (
            f"{result.rotated} values re-encrypted, "
            f"{result.already_current} already under the newest key"
        )
    click.echo(
        f"{result.rotated} values re-encrypted, {result.already_current} already "
        f"under the newest key, {result.changed_meanwhile} changed meanwhile, "
        f"in {result.columns} columns"
    )


@click.command("check-totals")
@click.option("--workspace", "slug", help="Only this workspace (its slug).")
@click.option(
    "--repair",
    is_flag=True,
    help="Rebuild the totals from the invoices and payments when they differ.",
)
@with_appcontext
def check_totals_command(slug: str | None, repair: bool) -> None:
    """Compare the revenue totals the dashboard reads with the books.

    Exits with status 1 when they differ and --repair was not given.
    """
    from host_stub.sdk import Workspace, db

    from . import revenue_totals

    workspace_id = None
    if slug:
        workspace = db.session.scalar(
            db.select(Workspace).where(Workspace.slug == slug)
        )
        if workspace is None:
            raise click.ClickException(f"no workspace {slug!r}")
        workspace_id = workspace.id
    if repair:
        revenue_totals.lock_books(db.session)
    found = revenue_totals.differences(db.session, workspace_id)
    for difference in found[:20]:
        click.echo(
            f"{difference.table} {difference.key}: kept {difference.stored}, "
            f"books say {difference.expected}"
        )
    if len(found) > 20:
        click.echo(f"… and {len(found) - 20} more")
    if not found:
        db.session.rollback()
        click.echo("The revenue totals agree with the invoices and payments.")
        return
    if not repair:
        db.session.rollback()
        raise click.exceptions.Exit(1)
    written = revenue_totals.rebuild(db.session, workspace_id)
    db.session.commit()
    click.echo(f"{len(found)} differences repaired; {written} rows rebuilt.")
