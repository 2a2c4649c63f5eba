"""``flask clientflow import``: dry run, problems and exit code, the import."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from clientflow_plugin.models import Client, Invoice, Payment
from host_stub.extensions import db
from tests.clientflow.importing import (
    EXAMPLES,
    INVOICE_HEADER,
    csv_bytes,
    invoice_row,
)


@pytest.fixture
def files(tmp_path):
    """Copies of the example files, in the documented order."""
    paths = []
    for kind in ("clients", "invoices", "payments"):
        path = tmp_path / f"{kind}.csv"
        shutil.copy(EXAMPLES / f"{kind}.csv", path)
        paths.append(str(path))
    return paths


@pytest.fixture
def run(app, workspace):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(
            args=["clientflow", "import", "--workspace", workspace.slug, *args]
        )

    return invoke


def counts() -> tuple[int, int, int]:
    db.session.remove()
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Client, Invoice, Payment)
    )


def test_a_dry_run_lists_what_would_be_created_and_writes_nothing(run, files):
    result = run("--dry-run", *files)

    assert result.exit_code == 0, result.output
    assert "Would create: 6 clients, 8 invoices (12 lines), 6 payments" in result.output
    assert "invoice 2024/001 of 2024-01-15 for Laura Gómez" in result.output
    assert "Dry run: nothing was written." in result.output
    assert counts() == (0, 0, 0)


def test_the_import_writes_the_files_and_says_so(run, files):
    result = run(*files)

    assert result.exit_code == 0, result.output
    assert "Imported 6 clients, 8 invoices with 12 lines, and 6 payments." in (
        result.output
    )
    assert counts() == (6, 8, 6)


def test_a_second_import_says_what_it_skipped(run, files):
    run(*files)

    result = run(*files)

    assert result.exit_code == 0
    assert "6 clients already imported, skipped" in result.output
    assert "Nothing new." in result.output
    assert counts() == (6, 8, 6)


def test_problems_exit_non_zero_with_each_place_listed(run, files, tmp_path):
    bad = tmp_path / "facturas.csv"
    bad.write_bytes(
        csv_bytes(
            INVOICE_HEADER,
            [
                invoice_row(client="CLI-001", issue_date="31/02/2024"),
                invoice_row("F2", "2024/002"),
            ],
        )
    )

    result = run(files[0], str(bad))

    assert result.exit_code == 1
    assert "2 problems:" in result.stderr
    assert "facturas.csv, line 2, column issue date (D):" in result.stderr
    assert "facturas.csv, line 3, column client external id (C):" in result.stderr
    assert "Nothing was written." in result.stderr
    assert counts() == (0, 0, 0)


def test_files_may_come_in_any_order(run, files):
    result = run(files[2], files[0], files[1])

    assert result.exit_code == 0, result.output
    assert counts() == (6, 8, 6)


def test_the_decimal_option_settles_ambiguous_numbers(run, files, tmp_path):
    ambiguous = tmp_path / "invoices.csv"
    row = invoice_row(client="CLI-001", unit_price="1.500", tax_rates="")
    ambiguous.write_bytes(csv_bytes(INVOICE_HEADER, [row]))

    refused = run("--dry-run", files[0], str(ambiguous))
    accepted = run("--decimal", "comma", files[0], str(ambiguous))

    assert refused.exit_code == 1
    assert accepted.exit_code == 0, accepted.output
    assert db.session.scalar(sa.select(Invoice.total_minor)) == 150000


def test_a_file_of_no_known_kind_is_refused(run, tmp_path):
    other = tmp_path / "notas.csv"
    other.write_text("fruta;color\nmanzana;roja\n")

    result = run(str(other))

    assert result.exit_code == 2
    assert "not a clients, invoices or payments file" in result.output


def test_an_unknown_workspace_is_refused(app, files):
    result = app.test_cli_runner().invoke(
        args=["clientflow", "import", "--workspace", "nope", *files]
    )

    assert result.exit_code == 2
    assert "no workspace 'nope'" in result.output


def test_the_progress_bar_names_its_steps(run, files):
    result = run(*files)

    assert "Checking" in result.stderr
    assert "Importing" in result.stderr
