"""The dashboard page and its charts' JSON, to the cent, as the owner sees them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import cssselect2
import pytest
import sqlalchemy as sa
import tinyhtml5

from clientflow_plugin import clock
from clientflow_plugin.models import Invoice
from host_stub.extensions import db
from tests.clientflow.dashboard_factories import Books

# Noon in Madrid on 15 June 2026.
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(clock, "now_utc", lambda: NOW)


@pytest.fixture
def base(workspace) -> str:
    return f"/w/{workspace.slug}/clientflow"


@pytest.fixture
def agency(workspace, make_workspace) -> Books:
    """Books whose every figure is worked out by hand below."""
    books = Books(workspace)
    acme = books.client("Acme Studio")
    beta = books.client("Beta Bakery")
    gone = books.client("Gone Ltd", archived=True)

    late = books.invoice(acme, 123_456, date(2026, 5, 2), due=date(2026, 6, 1))
    books.payment(late, 23_456, date(2026, 5, 20))
    recent = books.invoice(beta, 50_000, date(2026, 6, 10), due=date(2026, 7, 10))
    books.payment(recent, 20_000, date(2026, 6, 12))
    books.paid_invoice(acme, 80_000, date(2025, 3, 5), date(2025, 3, 20))
    books.paid_invoice(gone, 5_000, date(2025, 8, 1), date(2025, 8, 10))
    voided = books.invoice(beta, 9_999, date(2026, 6, 1), state="void")
    books.payment(voided, 9_999, date(2026, 6, 2))
    books.opportunity(10_000, 99)
    books.opportunity(20_000, 0)
    books.opportunity(500_000, 100, stage="won")

    other = Books(make_workspace("rival"))
    stranger = other.client("Stranger")
    other.paid_invoice(stranger, 777_700, date(2026, 6, 1), date(2026, 6, 2))
    other.opportunity(300_000, 50)
    return books


def query(html: str, selector: str) -> list:
    root = cssselect2.ElementWrapper.from_html_root(tinyhtml5.parse(html))
    return [found.etree_element for found in root.query_all(selector)]


def text(element) -> str:
    # Only ASCII white space: the no-break spaces of formatted amounts stay.
    return re.sub(r"[ \t\r\n]+", " ", "".join(element.itertext())).strip(" ")


def card(html: str, metric: str) -> tuple[str, str]:
    """The big value and the line below it of one card."""
    (article,) = query(html, f'[data-metric="{metric}"]')
    root = cssselect2.ElementWrapper.from_html_root(article)
    value = text(next(root.query_all(".value")).etree_element)
    sub = text(next(root.query_all(".sub")).etree_element)
    return value, sub


def table_rows(html: str, name: str) -> list[list[str]]:
    (table,) = query(html, f'table[data-table="{name}"]')
    rows = cssselect2.ElementWrapper.from_html_root(table).query_all("tbody tr")
    return [[text(cell) for cell in row.etree_element] for row in rows]


# -- the four cards ----------------------------------------------------------


def test_active_clients_card(owner_client, base, agency):
    html = owner_client.get(f"{base}/").get_data(as_text=True)

    assert card(html, "active-clients")[0] == "2"


def test_total_revenue_card_counts_payments_on_issued_invoices(
    owner_client, base, agency
):
    html = owner_client.get(f"{base}/").get_data(as_text=True)

    value, sub = card(html, "revenue")

    assert value == "€1,284.56"
    assert "All time" in sub


def test_pending_collection_card_shows_the_overdue_part(owner_client, base, agency):
    html = owner_client.get(f"{base}/").get_data(as_text=True)

    assert card(html, "pending") == ("€1,300.00", "Overdue: €1,000.00")


def test_opportunities_card_shows_open_and_weighted_value(owner_client, base, agency):
    html = owner_client.get(f"{base}/").get_data(as_text=True)

    assert card(html, "opportunities") == ("€300.00", "Weighted: €99.00 · 2 open")


def test_revenue_card_follows_the_period_selector(owner_client, base, agency):
    html = owner_client.get(f"{base}/?period=year").get_data(as_text=True)

    value, sub = card(html, "revenue")

    assert value == "€434.56"
    assert "This year (2026)" in sub


def test_custom_period_shows_both_days(owner_client, base, agency):
    html = owner_client.get(
        f"{base}/?period=custom&start=2025-03-20&end=2025-08-09"
    ).get_data(as_text=True)

    value, sub = card(html, "revenue")

    assert value == "€800.00"
    assert "Mar 20, 2025 to Aug 9, 2025" in sub


def test_custom_period_in_the_wrong_order_says_so_and_shows_all_time(
    owner_client, base, agency
):
    response = owner_client.get(
        f"{base}/?period=custom&start=2026-03-02&end=2026-03-01"
    )
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "The last day comes before the first day." in html
    assert card(html, "revenue")[0] == "€1,284.56"


def test_amounts_follow_the_readers_language(app, make_user, workspace, login, agency):
    reader = login(
        app.test_client(), make_user("agency_owner", workspace, language="es")
    )

    html = reader.get(f"/w/{workspace.slug}/clientflow/").get_data(as_text=True)

    assert card(html, "revenue")[0] == "1.284,56\xa0€"


def test_cards_use_the_workspace_currency(owner_client, base, workspace, agency):
    workspace.currency = "JPY"
    db.session.execute(sa.update(Invoice).values(currency="JPY"))
    db.session.commit()

    html = owner_client.get(f"{base}/").get_data(as_text=True)

    assert card(html, "pending")[0] == "¥130,000"


def test_invoices_in_another_currency_stay_out_of_the_sums(
    owner_client, base, workspace, agency
):
    """After a change of the workspace's currency, amounts in the old one are
    not added to amounts in the new one."""
    workspace.currency = "USD"
    db.session.commit()
    html = owner_client.get(f"{base}/").get_data(as_text=True)
    assert card(html, "pending")[0] == "$0.00"
    assert card(html, "revenue")[0] == "$0.00"

    db.session.execute(sa.update(Invoice).values(currency="USD"))
    db.session.commit()
    html = owner_client.get(f"{base}/").get_data(as_text=True)
    assert card(html, "pending")[0] == "$1,300.00"


# -- the three charts: tables on the page ------------------------------------


def test_monthly_table_has_twelve_months_with_empty_ones_as_zero(
    owner_client, base, agency
):
    html = owner_client.get(f"{base}/").get_data(as_text=True)

    rows = table_rows(html, "monthly")

    assert len(rows) == 12
    assert rows[0] == ["Jul 2025", "€0.00", "€0.00"]
    assert rows[1] == ["Aug 2025", "€50.00", "€50.00"]
    assert rows[10] == ["May 2026", "€1,234.56", "€234.56"]
    assert rows[11] == ["Jun 2026", "€500.00", "€200.00"]
    assert all(row[1:] == ["€0.00", "€0.00"] for row in rows[2:10])


def test_clients_table_shares_add_up_to_the_revenue(owner_client, base, agency):
    html = owner_client.get(f"{base}/").get_data(as_text=True)

    assert table_rows(html, "clients") == [
        ["Acme Studio", "€1,034.56", "80.5 %"],
        ["Beta Bakery", "€200.00", "15.6 %"],
        ["Gone Ltd", "€50.00", "3.9 %"],
    ]


def test_comparison_table_says_na_when_last_year_is_zero(owner_client, base, agency):
    html = owner_client.get(f"{base}/").get_data(as_text=True)

    rows = table_rows(html, "comparison")

    assert rows[2] == ["Mar", "€800.00", "€0.00", "-100.0 %"]
    assert rows[3] == ["Apr", "€0.00", "€0.00", "0 %"]
    assert rows[4] == ["May", "€0.00", "€234.56", "n/a"]
    assert rows[7] == ["Aug", "€50.00", "—", "—"]


def test_client_names_with_markup_are_shown_as_text(owner_client, base, workspace):
    books = Books(workspace)
    client = books.client("<b>Bold</b> & <script>x()</script>")
    books.paid_invoice(client, 1_000, date(2026, 6, 1), date(2026, 6, 2))

    html = owner_client.get(f"{base}/").get_data(as_text=True)

    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;x()&lt;/script&gt;" in html
    assert "<b>Bold</b>" not in html
    assert table_rows(html, "clients")[0][0] == "<b>Bold</b> & <script>x()</script>"


def test_page_reads_without_javascript(owner_client, base, agency):
    html = owner_client.get(f"{base}/").get_data(as_text=True)

    assert len(query(html, "details.cf-chart-data[open] table")) == 3
    assert len(query(html, ".cf-chart[hidden] canvas[data-chart]")) == 3


def test_page_has_no_inline_script_or_style(owner_client, base, agency):
    html = owner_client.get(f"{base}/").get_data(as_text=True)

    assert query(html, "script:not([src])") == []
    assert query(html, "[style]") == []
    assert len(query(html, 'script[src$="dashboard.js"]')) == 1


def test_empty_books_show_zeros_and_say_there_are_no_payments(owner_client, base):
    html = owner_client.get(f"{base}/").get_data(as_text=True)

    assert card(html, "revenue")[0] == "€0.00"
    assert card(html, "pending") == ("€0.00", "Nothing overdue")
    assert "No payments in this period." in html


# -- the three charts: JSON --------------------------------------------------


def test_monthly_json_gives_exact_amounts_and_minor_units(owner_client, base, agency):
    data = owner_client.get(f"{base}/chart/monthly.json").get_json()

    may = data["months"][10]
    assert data["currency"] == "EUR"
    assert [s["key"] for s in data["series"]] == ["invoiced", "collected"]
    assert may["month"] == "2026-05"
    assert may["invoiced"] == {
        "amount": "1234.56",
        "minor": 123_456,
        "formatted": "€1,234.56",
    }
    assert may["collected"]["amount"] == "234.56"
    assert data["months"][0]["collected"] == {
        "amount": "0.00",
        "minor": 0,
        "formatted": "€0.00",
    }
    assert data["totals"]["invoiced"]["minor"] == 178_456


def test_clients_json_lists_top_clients_and_others(owner_client, base, agency):
    data = owner_client.get(f"{base}/chart/clients.json").get_json()

    assert [
        (c["name"], c["collected"]["amount"], c["share"]) for c in data["clients"]
    ] == [
        ("Acme Studio", "1034.56", "80.5"),
        ("Beta Bakery", "200.00", "15.6"),
        ("Gone Ltd", "50.00", "3.9"),
    ]
    assert data["others"]["count"] == 0
    assert data["total"]["minor"] == 128_456
    assert data["period"]["key"] == "all"


def test_clients_json_follows_the_period(owner_client, base, agency):
    data = owner_client.get(
        f"{base}/chart/clients.json?period=custom&start=2026-06-01&end=2026-06-30"
    ).get_json()

    assert [(c["name"], c["collected"]["minor"]) for c in data["clients"]] == [
        ("Beta Bakery", 20_000)
    ]
    assert data["period"]["start"] == "2026-06-01"
    assert data["period"]["last_day"] == "2026-06-30"


def test_clients_json_refuses_a_bad_period(owner_client, base, agency):
    response = owner_client.get(f"{base}/chart/clients.json?period=custom&start=x")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_period"


def test_comparison_json_growth_is_null_where_it_cannot_be_said(
    owner_client, base, agency
):
    data = owner_client.get(f"{base}/chart/yoy.json").get_json()

    march, april, may, august = (data["months"][i] for i in (2, 3, 4, 7))
    assert (data["this_year"], data["last_year"]) == (2026, 2025)
    assert (march["growth"], march["growth_label"]) == ("-100.0", "-100.0 %")
    assert (april["growth"], april["growth_label"]) == ("0.0", "0 %")
    assert (may["growth"], may["growth_label"]) == (None, "n/a")
    assert (august["future"], august["this_year"], august["growth"]) == (
        True,
        None,
        None,
    )


# -- who may see it (C-11) ---------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/chart/monthly.json", "/chart/clients.json", "/chart/yoy.json"]
)
def test_manager_gets_403_and_no_figures(role_client, base, agency, path):
    response = role_client("manager").get(f"{base}{path}")

    assert response.status_code == 403
    assert "1,284.56" not in response.get_data(as_text=True)


# -- cost that does not grow with the data -----------------------------------


def statements(client, url: str, query_counter) -> list[str]:
    """The SQL of one request, run as a request of its own would run it."""
    assert client.get(url).status_code == 200
    # The test shares the request's session; a request starts with none loaded.
    db.session.expire_all()
    with query_counter() as seen:
        assert client.get(url).status_code == 200
    return seen


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?period=custom&start=2025-01-01&end=2026-06-30",
        "/chart/monthly.json",
        "/chart/clients.json",
        "/chart/yoy.json",
    ],
)
def test_queries_are_the_same_with_10_and_5000_invoices(
    owner_client, base, workspace, query_counter, path
):
    books = Books(workspace)
    clients = [books.client(f"Client {n}") for n in range(3)]
    books.many_paid_invoices(clients[0], 10, date(2024, 9, 1))
    small = statements(owner_client, f"{base}{path}", query_counter)

    books.many_paid_invoices(clients[1], 2_500, date(2024, 7, 1))
    books.many_paid_invoices(clients[2], 2_490, date(2025, 1, 1))
    large = statements(owner_client, f"{base}{path}", query_counter)

    assert len(large) == len(small)
