"""CSV exports: inert formulas, numeric amounts, UTF-8 with BOM, streamed."""

from __future__ import annotations

import csv
import io

from clientflow_plugin.exports import cell, text_cell
from tests.api.factories import (
    make_client,
    make_invoice,
    make_opportunity,
    make_rate,
)

FORMULAS = ["=1+1", "+34 600 000 000", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def download(owner_client, workspace, kind: str):
    return owner_client.get(
        f"/w/{workspace.slug}/clientflow/integrations/exports/{kind}.csv"
    )


def rows_of(response) -> list[dict]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_text_starting_like_a_formula_gets_an_apostrophe():
    assert [text_cell(value) for value in FORMULAS] == ["'" + v for v in FORMULAS]


def test_plain_text_is_left_alone():
    assert text_cell("Lumen Studio") == "Lumen Studio"


def test_negative_amounts_stay_numbers(workspace):
    from clientflow_plugin.exports import Amount

    assert cell(Amount(-600, "EUR")) == "-6.00"


def test_client_cells_that_look_like_formulas_are_text(owner_client, workspace):
    make_client(
        workspace,
        name='=HYPERLINK("http://evil.example","x")',
        company="+cmd|' /C calc'!A0",
        email="@SUM(1+1)",
        phone="-2+3",
        address="\tleading tab",
        website="\rleading return",
    )

    row = rows_of(download(owner_client, workspace, "clients"))[0]

    assert row["name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["company"].startswith("'+")
    assert row["email"] == "'@SUM(1+1)"
    assert row["phone"] == "'-2+3"
    assert row["address"] == "'\tleading tab"
    assert row["website"] == "'\rleading return"


def test_invoice_amounts_are_plain_decimals(owner_client, workspace):
    client = make_client(workspace)
    make_invoice(workspace, client, lines=[("1", 123456, [])])

    row = rows_of(download(owner_client, workspace, "invoices"))[0]

    assert row["total"] == "1234.56"
    assert row["balance"] == "1234.56"
    assert row["paid"] == "0.00"


def test_withholding_tax_is_a_negative_number_not_text(owner_client, workspace):
    client = make_client(workspace)
    withholding = make_rate(workspace, "-15")
    make_invoice(workspace, client, lines=[("1", 4000, [withholding])])

    row = rows_of(download(owner_client, workspace, "invoices"))[0]

    assert row["tax"] == "-6.00"
    assert row["total"] == "34.00"


def test_invoice_status_and_balance_follow_payments(owner_client, workspace):
    client = make_client(workspace)
    make_invoice(workspace, client, lines=[("1", 10000, [])], paid_minor=10000)
    make_invoice(workspace, client, lines=[("1", 10000, [])], paid_minor=2500)
    make_invoice(workspace, client, issue=False)

    rows = rows_of(download(owner_client, workspace, "invoices"))

    assert [(r["status"], r["balance"]) for r in rows] == [
        ("paid", "0.00"),
        ("pending", "75.00"),
        ("draft", "0.00"),
    ]


def test_yen_amounts_have_no_decimals(make_workspace, make_user, login, app):
    workspace = make_workspace("tokyo", currency="JPY")
    owner_client = login(app.test_client(), make_user("agency_owner", workspace))
    make_invoice(workspace, make_client(workspace), lines=[("1", 100, [])])

    row = rows_of(download(owner_client, workspace, "invoices"))[0]

    assert row["total"] == "100"


def test_file_is_utf8_with_a_byte_order_mark(owner_client, workspace):
    make_client(workspace, name="Diseño Añil")

    response = download(owner_client, workspace, "clients")

    assert response.get_data().startswith("\ufeff".encode())
    assert "Diseño Añil" in response.get_data().decode("utf-8-sig")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_file_is_offered_as_a_download(owner_client, workspace):
    response = download(owner_client, workspace, "clients")

    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert ".csv" in response.headers["Content-Disposition"]


def test_file_is_streamed(owner_client, workspace):
    response = download(owner_client, workspace, "invoices")

    assert response.is_streamed


def test_queries_do_not_grow_with_the_rows(owner_client, workspace, query_counter):
    client = make_client(workspace)
    download(owner_client, workspace, "invoices").get_data()  # warms the caches
    make_invoice(workspace, client)
    with query_counter() as few:
        download(owner_client, workspace, "invoices").get_data()
    for _ in range(12):
        make_invoice(workspace, client, paid_minor=100)

    with query_counter() as many:
        download(owner_client, workspace, "invoices").get_data()

    assert len(many) == len(few)


def test_only_this_workspace_is_exported(owner_client, workspace, make_workspace):
    other = make_workspace("other")
    make_client(other, name="Secret Other Client")
    make_client(workspace, name="Our Client")

    names = [r["name"] for r in rows_of(download(owner_client, workspace, "clients"))]

    assert names == ["Our Client"]


def test_opportunity_export_has_value_and_weighted_value(owner_client, workspace):
    make_opportunity(workspace, title="=cmd", value_minor=10000, probability=99)

    row = rows_of(download(owner_client, workspace, "opportunities"))[0]

    assert row["title"] == "'=cmd"
    assert row["value"] == "100.00"
    assert row["weighted_value"] == "99.00"


def test_exports_page_links_every_file(owner_client, workspace):
    html = owner_client.get(
        f"/w/{workspace.slug}/clientflow/integrations/exports"
    ).get_data(as_text=True)

    for kind in ("clients", "invoices", "opportunities"):
        assert f"/exports/{kind}.csv" in html
