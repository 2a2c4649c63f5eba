"""``flask clientflow import``: an agency's history from CSV files, with a dry run."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from host_stub.sdk import Workspace, db

from . import imports
from .money import format_money
from .spreadsheets import COMMA, POINT

#: Problems printed before "... and N more".
SHOWN_PROBLEMS = 200


class ProgressBar:
    """:class:`imports.Progress` drawn with ``click.progressbar`` on stderr.

    Steps are passed on in batches of a hundredth of the total, so a bar of
    100,000 rows is redrawn a hundred times, not a hundred thousand.
    """

    def __init__(self) -> None:
        self.bar = None
        self.pending = 0
        self.batch = 1

    def begin(self, label: str, total: int) -> None:
        self.bar = click.progressbar(
            length=max(total, 1), label=label.ljust(10), file=sys.stderr
        )
        self.bar.__enter__()
        self.pending, self.batch = 0, max(total // 100, 1)

    def advance(self, steps: int) -> None:
        self.pending += steps
        if self.bar is not None and self.pending >= self.batch:
            self.bar.update(self.pending)
            self.pending = 0

    def end(self) -> None:
        if self.bar is not None:
            self.bar.update(self.pending)
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("import")
@click.option("--workspace", "slug", required=True, help="The workspace's slug.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check the files and show what would be created; write nothing.",
)
@click.option(
    "--decimal",
    type=click.Choice(["comma", "point"]),
    help="The decimal mark of values such as 1.500 or 1,500, which are "
    "otherwise reported as ambiguous.",
)
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@with_appcontext
def import_history(
    slug: str, dry_run: bool, decimal: str | None, files: tuple[Path, ...]
) -> None:
    """Import clients, invoices and payments from CSV FILES (see the README).

    Give the clients, invoices and payments files, or any of them, in any
    order: each is recognised by its header. Nothing is written when any row
    is wrong; the exit code is then 1 and every problem is listed.
    """
    workspace = db.session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        raise click.UsageError(f"no workspace {slug!r}")
    uploads = _uploads(files)

    mark = {"comma": COMMA, "point": POINT}.get(decimal or "")
    bar = ProgressBar()
    plan = imports.check(db.session, workspace, uploads, decimal=mark, progress=bar)
    _echo_plan(plan, dry_run)
    if not plan.ok:
        db.session.rollback()
        click.echo("Nothing was written.", err=True)
        sys.exit(1)
    if dry_run or plan.empty:
        db.session.rollback()
        click.echo("Dry run: nothing was written." if dry_run else "Nothing new.")
        return

    try:
        summary = imports.apply(db.session, workspace, plan, progress=bar)
    except imports.ImportConflict as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(summary.message())


def _uploads(files: tuple[Path, ...]) -> list[imports.Upload]:
    if len(files) > len(imports.FILE_KINDS):
        raise click.UsageError("give at most three files: clients, invoices, payments")
    uploads, kinds = [], {}
    for path in files:
        data = path.read_bytes()
        kind = imports.recognise(data)
        if kind is None:
            raise click.UsageError(
                f"{path}: not a clients, invoices or payments file "
                "(no known column in its first line)"
            )
        if kind in kinds:
            raise click.UsageError(f"{kinds[kind]} and {path} are both {kind} files")
        kinds[kind] = path
        uploads.append(imports.Upload(kind, path.name, data))
    return uploads


def _echo_plan(plan: imports.Plan, dry_run: bool) -> None:
    for info in plan.files:
        separator = {"\t": "tab"}.get(info.delimiter, info.delimiter)
        click.echo(
            f"{info.filename}: {info.kind}, {info.rows} rows, {info.encoding}, "
            f"separator {separator!r}"
        )
    for notice in plan.notices:
        click.echo(f"note: {notice}")
    if not plan.ok:
        _echo_problems(plan.problems)
        return

    counts = plan.counts()
    verb = "Would create" if dry_run else "To create"
    click.echo(
        f"{verb}: {counts['clients']} clients, {counts['invoices']} invoices "
        f"({counts['lines']} lines), {counts['payments']} payments"
    )
    for message in plan.skipped_messages():
        click.echo(message)
    if dry_run:
        _echo_preview(plan)


def _echo_problems(problems: list[imports.Problem]) -> None:
    click.echo(f"{len(problems)} problems:", err=True)
    for problem in problems[:SHOWN_PROBLEMS]:
        where = problem.file
        if problem.line:
            where += f", line {problem.line}"
        if problem.column:
            where += f", column {problem.column}"
        click.echo(f"  {where}: {problem.message}", err=True)
    if len(problems) > SHOWN_PROBLEMS:
        click.echo(f"  ... and {len(problems) - SHOWN_PROBLEMS} more", err=True)


def _echo_preview(plan: imports.Plan) -> None:
    preview = plan.preview()

    def money(minor: int) -> str:
        return format_money(minor, plan.currency)

    for row in preview["clients"]:
        click.echo(f"  client {row['external_id']}: {row['name']} ({row['company']})")
    for row in preview["invoices"]:
        click.echo(
            f"  invoice {row['number']} of {row['issue_date']:%Y-%m-%d} for "
            f"{row['client']}: {row['lines']} line(s), {money(row['total_minor'])}"
            f" ({row['state']})"
        )
    for row in preview["payments"]:
        click.echo(
            f"  payment of {money(row['amount_minor'])} on "
            f"{row['paid_on']:%Y-%m-%d} for invoice {row['invoice']}"
        )
