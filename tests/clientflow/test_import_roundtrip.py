"""Import, then read the history back: invoices page, clients, revenue figures.

The expected figures come from the CSV files themselves, added up the way a
spreadsheet would (SUMIF by month and by client), never from ClientFlow's code.
"""

from __future__ import annotations

import csv
import html
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from clientflow_plugin import imports
from clientflow_plugin.models import Client, Invoice, InvoiceState, Payment
from host_stub.extensions import db
from scripts.import_bench_files import write as write_history
from tests.clientflow.importing import (
    CLIENT_HEADER,
    EXAMPLES,
    client_row,
    csv_bytes,
    example_uploads,
    run_import,
    uploads,
)

INVOICES_URL = "/w/acme/clientflow/billing/invoices"


def rows_of(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def euros(text: str) -> Decimal:
    """A Spanish spreadsheet amount: "1.382,43" → 1382.43."""
    return Decimal(text.replace(".", "").replace(",", "."))


def day(text: str) -> date:
    d, m, y = (int(part) for part in text.split("/"))
    return date(y, m, d)


def spreadsheet_sums(folder: Path, names: dict[str, str], encoding: str):
    """Collected per month and per client, by SUMIF over the files' rows."""
    invoice_rows = rows_of(folder / names["invoices"], encoding)
    client_of = {r["id factura"]: r["id cliente"] for r in invoice_rows}
    void = {r["id factura"] for r in invoice_rows if r.get("estado") == "anulada"}
    by_month: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    by_client: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows_of(folder / names["payments"], encoding):
        if row["id factura"] in void:
            continue
        paid = day(row.get("fecha de pago") or row["fecha de cobro"])
        by_month[(paid.year, paid.month)] += euros(row["importe"])
        by_client[client_of[row["id factura"]]] += euros(row["importe"])
    return dict(by_month), dict(by_client)


def stored_sums(workspace):
    """Collected per month and per client external id, as the database holds it."""
    issued = (
        sa.select(Payment.amount_minor, Payment.paid_on, Client.external_id)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Payment.workspace_id == workspace.id,
            Invoice.state == InvoiceState.ISSUED.value,
        )
        .subquery()
    )
    month = (
        sa.func.to_char(issued.c.paid_on, "YYYY-MM")
        if db.engine.dialect.name == "postgresql"
        else sa.func.strftime("%Y-%m", issued.c.paid_on)
    )
    by_month = {
        tuple(int(x) for x in key.split("-")): Decimal(total) / 100
        for key, total in db.session.execute(
            sa.select(month, sa.func.sum(issued.c.amount_minor)).group_by(month)
        )
    }
    per_client = sa.select(
        issued.c.external_id, sa.func.sum(issued.c.amount_minor)
    ).group_by(issued.c.external_id)
    by_client = {
        ext: Decimal(total) / 100 for ext, total in db.session.execute(per_client)
    }
    return by_month, by_client


def text_of(response) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", response.text).split()))


# -- the invoices page ---------------------------------------------------------


def test_the_invoices_page_lists_every_imported_invoice(owner_client, workspace):
    run_import(workspace, example_uploads())

    page = text_of(owner_client.get(INVOICES_URL))

    for row in rows_of(EXAMPLES / "invoices.csv"):
        assert row["número"] in page
    assert "2024/003 Sofía Herrera Feb 20, 2024 Mar 21, 2024 Paid €4,356.00" in page


def test_the_invoices_page_totals_match_the_files(owner_client, workspace):
    run_import(workspace, example_uploads())
    stated = {
        r["id factura"]: euros(r["total"])
        for r in rows_of(EXAMPLES / "invoices.csv")
        if r["estado"] != "anulada"
    }

    page = text_of(owner_client.get(INVOICES_URL))

    assert sum(stated.values()) == Decimal("8581.16")
    assert "Total of 7 issued invoices (drafts and void left out) €8,581.16" in page


def test_the_invoices_page_groups_imported_invoices_by_status(owner_client, workspace):
    run_import(workspace, example_uploads())

    page = text_of(owner_client.get(INVOICES_URL))

    assert "Paid 4 invoices €7,179.30" in page
    assert "Overdue 3 invoices €801.86" in page


# -- the clients ---------------------------------------------------------------

CLIENTS_URL = "/w/acme/clientflow/clients/"


def client_cards(response) -> dict[str, tuple[str, str]]:
    """Name → (company, billed to date) of each card on the clients page."""
    cards = {}
    for card in re.findall(
        r'<li class="card cf-client-card.*?</li>', response.text, re.S
    ):
        name = re.search(r"<h2><a [^>]*>(.*?)</a></h2>", card, re.S).group(1)
        company = re.search(r'<p class="muted">(.*?)</p>', card, re.S).group(1)
        billed = re.search(r'<dd class="cf-revenue">(.*?)</dd>', card, re.S).group(1)
        cards[html.unescape(name)] = (html.unescape(company), html.unescape(billed))
    return cards


def test_the_clients_page_shows_each_client_billed_as_the_files_say(
    owner_client, workspace
):
    run_import(workspace, example_uploads())
    names = {r["id externo"]: r for r in rows_of(EXAMPLES / "clients.csv")}
    billed: dict[str, Decimal] = defaultdict(Decimal)
    totals = {
        r["id factura"]: (r["id cliente"], euros(r["total"]))
        for r in rows_of(EXAMPLES / "invoices.csv")
        if r["estado"] != "anulada"
    }
    for client, total in totals.values():
        billed[client] += total

    cards = client_cards(owner_client.get(CLIENTS_URL))

    assert cards == {
        row["nombre"]: (row["empresa"], f"€{billed[ext]:,.2f}")
        for ext, row in names.items()
    }
    assert cards["Sofía Herrera"] == ("Herrera & Asociados Abogados", "€4,957.07")


def test_markup_and_formulas_in_names_show_as_text_on_the_clients_page(
    owner_client, workspace
):
    names = ["<img src=x onerror=alert(1)>", '=HYPERLINK("http://evil.example")']
    data = csv_bytes(
        CLIENT_HEADER, [client_row(f"C{n}", name) for n, name in enumerate(names)]
    )
    run_import(workspace, uploads(clients=data))

    response = owner_client.get(CLIENTS_URL)

    assert "<img src=x" not in response.text
    assert set(client_cards(response)) == set(names)


def test_every_client_of_the_file_is_stored_with_its_billing_details(workspace):
    run_import(workspace, example_uploads())

    stored = {
        c.external_id: (c.name, c.company, c.status, c.tax_id, c.region)
        for c in db.session.scalars(sa.select(Client))
    }
    expected = {
        r["id externo"]: (
            r["nombre"],
            r["empresa"],
            {"activo": "active", "inactivo": "inactive", "prospecto": "prospect"}[
                r["estado"]
            ],
            r["NIF/CIF"],
            r["región"],
        )
        for r in rows_of(EXAMPLES / "clients.csv")
    }
    assert stored == expected


# -- revenue, to the cent ------------------------------------------------------


def test_revenue_per_month_and_client_equals_the_spreadsheet_sums(workspace):
    run_import(workspace, example_uploads())
    names = {"invoices": "invoices.csv", "payments": "payments.csv"}

    expected = spreadsheet_sums(EXAMPLES, names, "utf-8-sig")

    assert expected[0] == {
        (2024, 2): Decimal("1382.43"),
        (2024, 3): Decimal("2340.87"),
        (2024, 4): Decimal("3456.00"),
        (2024, 5): Decimal("600.00"),
    }
    assert stored_sums(workspace) == expected


@pytest.fixture
def generated_history(tmp_path):
    """Six years of a 150-client agency, as a Spanish spreadsheet saves them."""
    write_history(tmp_path, lines=2000)
    return tmp_path


def test_a_generated_history_sums_to_the_cent(workspace, generated_history):
    files = [
        imports.Upload(kind, name, (generated_history / name).read_bytes())
        for kind, name in (
            ("clients", "clientes.csv"),
            ("invoices", "facturas.csv"),
            ("payments", "cobros.csv"),
        )
    ]
    names = {"invoices": "facturas.csv", "payments": "cobros.csv"}

    plan = run_import(workspace, files)

    assert plan.counts()["lines"] == 2000
    assert stored_sums(workspace) == spreadsheet_sums(
        generated_history, names, "cp1252"
    )
