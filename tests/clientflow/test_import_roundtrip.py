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

from clientflow_plugin import imports, metrics
from clientflow_plugin.models import Client
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


def dashboard_sums(workspace, years: range):
    """Collected per month and per client external id, as the dashboard gives them.

    Months come from the 12-month chart asked at the end of each year, so
    every month of ``years`` is read once, empty ones as zero; clients from
    the per-client shares of all time.
    """
    by_month = {}
    for year in years:
        for month in metrics.monthly_revenue(db.session, workspace, date(year, 12, 31)):
            by_month[(month.year, month.month)] = Decimal(month.collected_minor) / 100
    shares = metrics.client_shares(
        db.session, workspace, metrics.Period(metrics.PeriodKey.ALL), top=100_000
    )
    external = dict(db.session.execute(sa.select(Client.id, Client.external_id)).all())
    by_client = {
        external[share.client_id]: Decimal(share.collected_minor) / 100
        for share in shares.clients
    }
    return {k: v for k, v in by_month.items() if v}, by_client, by_month


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


# -- the dashboard, to the cent ------------------------------------------------

DASHBOARD_URL = "/w/acme/clientflow/"


def test_dashboard_revenue_per_month_and_client_equals_the_spreadsheet_sums(
    workspace,
):
    run_import(workspace, example_uploads())
    names = {"invoices": "invoices.csv", "payments": "payments.csv"}

    by_month, by_client = spreadsheet_sums(EXAMPLES, names, "utf-8-sig")
    shown_months, shown_clients, every_month = dashboard_sums(
        workspace, range(2024, 2025)
    )

    assert by_month == {
        (2024, 2): Decimal("1382.43"),
        (2024, 3): Decimal("2340.87"),
        (2024, 4): Decimal("3456.00"),
        (2024, 5): Decimal("600.00"),
    }
    assert (shown_months, shown_clients) == (by_month, by_client)
    assert every_month[(2024, 1)] == every_month[(2024, 12)] == 0


def test_the_dashboard_cards_of_an_imported_workspace_match_the_files(
    owner_client, workspace
):
    run_import(workspace, example_uploads())
    paid = sum(euros(r["importe"]) for r in rows_of(EXAMPLES / "payments.csv"))
    issued = sum(
        {
            r["id factura"]: euros(r["total"])
            for r in rows_of(EXAMPLES / "invoices.csv")
            if r["estado"] != "anulada"
        }.values()
    )

    page = text_of(owner_client.get(DASHBOARD_URL))

    assert (paid, issued - paid) == (Decimal("7779.30"), Decimal("801.86"))
    assert "€7,779.30" in page
    assert "€801.86" in page


@pytest.fixture
def generated_history(tmp_path):
    """Six years of a 150-client agency, as a Spanish spreadsheet saves them."""
    write_history(tmp_path, lines=2000)
    return tmp_path


def test_a_generated_history_sums_to_the_cent_on_the_dashboard(
    workspace, generated_history
):
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

    by_month, by_client = spreadsheet_sums(generated_history, names, "cp1252")
    shown_months, shown_clients, _ = dashboard_sums(workspace, range(2019, 2026))

    assert plan.counts()["lines"] == 2000
    assert len(by_month) > 60
    assert (shown_months, shown_clients) == (by_month, by_client)
