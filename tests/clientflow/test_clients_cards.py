"""The client cards: figures, search, filters, sorting and pagination."""

from __future__ import annotations

import pytest

from clientflow_plugin.clients import client_cards, client_figures
from tests.clientflow.clients_factories import (
    add_client,
    add_interaction,
    add_invoice,
    add_many_clients,
    add_project,
    utc,
)


def names(page) -> list[str]:
    return [card.name for card in page.cards]


def test_card_counts_only_active_projects(workspace):
    client = add_client(workspace)
    add_project(client, "Web", "active")
    add_project(client, "Shop", "active")
    add_project(client, "Logo", "paused")
    add_project(client, "Ads", "completed")
    add_project(client, "App", "cancelled")

    card = client_figures(workspace.id, client.id)

    assert card.active_projects == 2


def test_card_revenue_sums_issued_invoices_only(workspace):
    client = add_client(workspace)
    add_invoice(client, 100050, "issued", number="2026-0001")
    add_invoice(client, 25025, "issued", number="2026-0002")
    add_invoice(client, 99900, "draft")
    add_invoice(client, 500000, "void", number="2026-0003")

    card = client_figures(workspace.id, client.id)

    assert card.revenue_minor == 125075


def test_card_revenue_takes_credit_notes_off(workspace):
    client = add_client(workspace)
    add_invoice(client, 10000, "issued", number="2026-0001")
    add_invoice(client, -3000, "issued", number="2026-0002")

    card = client_figures(workspace.id, client.id)

    assert card.revenue_minor == 7000


def test_card_revenue_leaves_out_and_counts_other_currencies(workspace):
    client = add_client(workspace)
    add_invoice(client, 10000, "issued", number="2026-0001")
    add_invoice(client, 500000, "issued", currency="MXN", number="2026-0002")

    card = client_figures(workspace.id, client.id)

    assert (card.revenue_minor, card.other_currency_invoices) == (10000, 1)


def test_card_last_interaction_is_the_latest_one(workspace):
    client = add_client(workspace)
    add_interaction(client, utc(2026, 3, 1, 10))
    add_interaction(client, utc(2026, 5, 20, 16, 30))
    add_interaction(client, utc(2026, 4, 2, 9))

    card = client_figures(workspace.id, client.id)

    assert card.last_interaction_at == utc(2026, 5, 20, 16, 30)


def test_card_without_interactions_has_no_last_interaction(workspace):
    client = add_client(workspace)

    card = client_figures(workspace.id, client.id)

    assert card.last_interaction_at is None


def test_card_figures_do_not_multiply_across_joins(workspace):
    client = add_client(workspace)
    for name in ("A", "B", "C"):
        add_project(client, name)
    add_invoice(client, 1000, number="2026-0001")
    add_invoice(client, 2000, number="2026-0002")
    for day in (1, 2, 3, 4):
        add_interaction(client, utc(2026, 1, day))

    card = client_figures(workspace.id, client.id)

    assert (card.active_projects, card.revenue_minor) == (3, 3000)
    assert card.last_interaction_at == utc(2026, 1, 4)


def test_each_card_has_its_own_figures(workspace):
    ana = add_client(workspace, "Ana Costa")
    jorge = add_client(workspace, "Jorge Ramírez")
    add_project(ana, "Web")
    add_invoice(jorge, 4200, number="2026-0001")
    add_interaction(jorge, utc(2026, 2, 3))

    page = client_cards(workspace.id)

    figures = {
        c.name: (c.active_projects, c.revenue_minor, c.last_interaction_at)
        for c in page.cards
    }
    assert figures == {
        "Ana Costa": (1, 0, None),
        "Jorge Ramírez": (0, 4200, utc(2026, 2, 3)),
    }


def test_cards_show_only_the_workspace_clients(workspace, make_workspace):
    add_client(workspace, "Mine")
    add_client(make_workspace(), "Theirs")

    page = client_cards(workspace.id)

    assert names(page) == ["Mine"]


@pytest.mark.parametrize(
    "term", ["alvaro", "ÁLVARO", "Álvaro", "gil constr", "CONSTRUCCIONES"]
)
def test_search_ignores_case_and_accents(workspace, term):
    add_client(workspace, "Álvaro Gil", company="Gil Construcciones")
    add_client(workspace, "Lucía Fernández", company="Panadería La Espiga")

    page = client_cards(workspace.id, search=term)

    assert names(page) == ["Álvaro Gil"]


def test_search_finds_accented_company_from_plain_letters(workspace):
    add_client(workspace, "Lucía Fernández", company="Panadería La Espiga")

    page = client_cards(workspace.id, search="panaderia")

    assert names(page) == ["Lucía Fernández"]


def test_search_treats_wildcards_as_plain_text(workspace):
    add_client(workspace, "Ana Costa", company="100% Surf")
    add_client(workspace, "Jorge Ramírez", company="Ramírez Arquitectos")

    page = client_cards(workspace.id, search="%")

    assert names(page) == ["Ana Costa"]


def test_filter_by_status(workspace):
    add_client(workspace, "Ana", status="prospect")
    add_client(workspace, "Bea", status="active")
    add_client(workspace, "Carla", status="inactive")

    page = client_cards(workspace.id, status="prospect")

    assert names(page) == ["Ana"]


def test_archived_clients_are_hidden_by_default(workspace):
    add_client(workspace, "Ana")
    add_client(workspace, "Bea", archived=True)

    page = client_cards(workspace.id)

    assert names(page) == ["Ana"]


def test_archived_view_shows_only_archived_clients(workspace):
    add_client(workspace, "Ana")
    add_client(workspace, "Bea", archived=True)

    page = client_cards(workspace.id, view="archived")

    assert names(page) == ["Bea"]


def test_all_view_shows_archived_and_current_clients(workspace):
    add_client(workspace, "Ana")
    add_client(workspace, "Bea", archived=True)

    page = client_cards(workspace.id, view="all")

    assert names(page) == ["Ana", "Bea"]


def test_sort_by_name_places_accented_initials_in_order(workspace):
    for name in ("Beatriz Ibáñez", "Íñigo Etxeberria", "Álvaro Gil", "carmen Delgado"):
        add_client(workspace, name)

    page = client_cards(workspace.id, sort="name")

    assert names(page) == [
        "Álvaro Gil",
        "Beatriz Ibáñez",
        "carmen Delgado",
        "Íñigo Etxeberria",
    ]


def test_sort_by_revenue_puts_the_largest_first(workspace):
    small = add_client(workspace, "Small")
    large = add_client(workspace, "Large")
    add_client(workspace, "None")
    add_invoice(small, 500, number="2026-0001")
    add_invoice(large, 90000, number="2026-0002")

    page = client_cards(workspace.id, sort="revenue")

    assert names(page) == ["Large", "Small", "None"]


def test_sort_by_last_interaction_puts_never_contacted_last(workspace):
    old = add_client(workspace, "Old")
    add_client(workspace, "Never")
    recent = add_client(workspace, "Recent")
    add_interaction(old, utc(2025, 6, 1))
    add_interaction(recent, utc(2026, 6, 1))

    page = client_cards(workspace.id, sort="last_interaction")

    assert names(page) == ["Recent", "Old", "Never"]


def test_second_page_holds_the_rest(workspace):
    add_many_clients(workspace, 30)

    page = client_cards(workspace.id, page=2, per_page=24)

    assert (len(page.cards), page.total, page.pages) == (6, 30, 2)
    assert (page.first_index, page.last_index) == (25, 30)


def test_page_past_the_end_gives_the_last_page(workspace):
    add_many_clients(workspace, 30)

    page = client_cards(workspace.id, page=99, per_page=24)

    assert (page.page, names(page)[0]) == (2, "Client 0024")


def test_unknown_sort_is_refused(workspace):
    with pytest.raises(ValueError, match="sort"):
        client_cards(workspace.id, sort="drop table")
