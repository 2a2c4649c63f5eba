"""The clients pages as the Agency Owner uses them."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from clientflow_plugin.blueprints import clients as clients_views
from flask import g

from clientflow_plugin.clock import today_in
from clientflow_plugin.models import Client, HourPack, Interaction, Project
from host_stub.extensions import db
from tests.clientflow.clients_factories import (
    add_client,
    add_interaction,
    add_invoice,
    add_many_clients,
    add_opportunity,
    add_payment,
    add_project,
    utc,
)


@pytest.fixture
def base(workspace) -> str:
    return f"/w/{workspace.slug}/clientflow/clients"


def valid_form(**overrides) -> dict:
    data = {
        "name": "Lucía Fernández",
        "company": "Panadería La Espiga",
        "email": "lucia@laespiga.example",
        "status": "active",
        "region": "ES",
    }
    data.update(overrides)
    return data


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def start_cold() -> None:
    """Forget what the test's shared context cached, as a new request would."""
    db.session.expire_all()
    g.pop("plugin_state_cache", None)


def card_html(page: str, name: str) -> str:
    """The markup of the card whose title is ``name``."""
    for card in page.split('<li class="card cf-client-card')[1:]:
        if f">{name}</a></h2>" in card:
            return card
    raise AssertionError(f"no card for {name}")


# The cards page


def test_card_shows_exact_figures(owner_client, base, workspace):
    client = add_client(workspace)
    add_project(client, "Web", "active")
    add_project(client, "Ads", "completed")
    add_invoice(client, 125075, number="2026-0001")
    add_invoice(client, 99900, "draft")
    add_interaction(client, utc(2026, 3, 1, 10))

    page = owner_client.get(f"{base}/").get_data(as_text=True)

    card = card_html(page, "Lucía Fernández")
    assert '<dd class="cf-active-projects">1</dd>' in card
    assert '<dd class="cf-revenue">€1,250.75</dd>' in card
    assert "Mar 1, 2026" in card


def test_card_of_a_client_never_contacted_says_never(owner_client, base, workspace):
    add_client(workspace)

    page = owner_client.get(f"{base}/").get_data(as_text=True)

    assert "Never" in card_html(page, "Lucía Fernández")


def test_empty_book_invites_to_add_a_client(owner_client, base):
    page = owner_client.get(f"{base}/").get_data(as_text=True)

    assert "No clients yet" in page


def test_archived_client_is_hidden_until_asked_for(owner_client, base, workspace):
    add_client(workspace, "Ana Costa", archived=True)

    default = owner_client.get(f"{base}/").get_data(as_text=True)
    archived = owner_client.get(f"{base}/?view=archived").get_data(as_text=True)

    assert "Ana Costa" not in default
    assert "Ana Costa" in card_html(archived, "Ana Costa")


def test_search_from_the_page_finds_by_company(owner_client, base, workspace):
    add_client(workspace, "Ana Costa", company="Costa Surf School")
    add_client(workspace, "Jorge Ramírez", company="Ramírez Arquitectos")

    page = owner_client.get(f"{base}/?q=surf").get_data(as_text=True)

    assert "Ana Costa" in page and "Jorge Ramírez" not in page


@pytest.mark.parametrize(
    "query",
    ["?page=abc", "?page=-4", "?sort=evil", "?status=vip", "?view=x&per_page=0"],
)
def test_odd_query_strings_fall_back_to_defaults(owner_client, base, workspace, query):
    add_client(workspace)

    response = owner_client.get(f"{base}/{query}")

    assert response.status_code == 200
    assert "Lucía Fernández" in response.get_data(as_text=True)


def test_pagination_links_keep_the_filters(owner_client, base, workspace):
    add_many_clients(workspace, 30)

    page = owner_client.get(f"{base}/?q=client&sort=revenue").get_data(as_text=True)

    assert f'href="{base}/?page=2&amp;q=client&amp;sort=revenue"' in page


def test_quick_actions_link_to_details_project_and_message(
    owner_client, base, workspace
):
    client = add_client(workspace)

    page = owner_client.get(f"{base}/").get_data(as_text=True)

    card = card_html(page, "Lucía Fernández")
    for path in ("", "/projects/new", "/message"):
        assert f'href="{base}/{client.id}{path}"' in card


def test_create_invoice_action_is_absent_without_billing(
    owner_client, base, workspace, monkeypatch
):
    add_client(workspace)
    monkeypatch.setattr(clients_views, "NEW_INVOICE_ENDPOINT", "clientflow.no.such")

    page = owner_client.get(f"{base}/").get_data(as_text=True)

    assert "cf-action-invoice" not in page


def test_create_invoice_action_opens_the_endpoint_with_the_client(
    owner_client, base, workspace, monkeypatch
):
    client = add_client(workspace)
    # Any endpoint taking ``client_id`` stands in for billing's invoice form.
    monkeypatch.setattr(
        clients_views, "NEW_INVOICE_ENDPOINT", "clientflow.clients.edit"
    )

    page = owner_client.get(f"{base}/").get_data(as_text=True)

    assert (
        f'class="button small cf-action-invoice" href="{base}/{client.id}/edit"'
        in card_html(page, "Lucía Fernández")
    )


def test_card_and_page_show_prepaid_hours_of_a_client_with_a_pack(
    owner_client, base, workspace
):
    client = add_client(workspace)
    db.session.add(
        HourPack(
            workspace_id=workspace.id,
            client_id=client.id,
            hours_bought=Decimal(20),
            warn_below_hours=Decimal(5),
        )
    )
    db.session.commit()

    cards = owner_client.get(f"{base}/").get_data(as_text=True)
    page = owner_client.get(f"{base}/{client.id}").get_data(as_text=True)

    assert "20 h left" in card_html(cards, "Lucía Fernández")
    assert "20 h left" in page.split('id="hours-title"')[1]


def test_page_query_count_does_not_grow_with_clients(
    owner_client, base, workspace, make_workspace, query_counter
):
    add_many_clients(workspace, 5)
    start_cold()
    with query_counter() as few:
        first = owner_client.get(f"{base}/?sort=revenue")
    add_many_clients(make_workspace(), 1)
    add_many_clients(workspace, 495)
    start_cold()

    with query_counter() as many:
        second = owner_client.get(f"{base}/?sort=revenue")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_data(as_text=True).count("cf-client-card") == 24
    assert len(many) == len(few)


@pytest.mark.slow
@pytest.mark.parametrize("sort", ["name", "revenue", "last_interaction"])
def test_page_of_5000_clients_answers_quickly_in_any_order(
    owner_client, base, workspace, sort
):
    add_many_clients(workspace, 5000)
    start_cold()
    started = time.perf_counter()

    response = owner_client.get(f"{base}/?sort={sort}&page=100")

    # Fresh tables have no planner statistics; a plan that relied on them
    # took over ten seconds here.
    assert response.status_code == 200
    assert time.perf_counter() - started < 3


# Creating and editing


def test_create_client_stores_it_and_opens_its_page(owner_client, base, workspace):
    response = owner_client.post(f"{base}/new", data=valid_form(tax_id="B1234"))

    client = db.session.scalars(sa.select(Client)).one()
    assert response.status_code == 302
    assert response.location.endswith(f"{base}/{client.id}")
    assert (client.workspace_id, client.name, client.tax_id) == (
        workspace.id,
        "Lucía Fernández",
        "B1234",
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 10_000}, "Use at most 200 characters."),
        ({"email": "lucia@"}, "Enter a valid email address"),
        ({"status": "vip"}, "Choose active, inactive or prospect."),
        ({"region": "Spain!"}, "Use a region code such as ES, ES-CN or MX."),
        ({"website": "javascript:alert(1)"}, "Enter a web address"),
        ({"name": "Ana\x00Costa"}, "Remove the control characters"),
    ],
)
def test_bad_client_input_is_explained_and_nothing_stored(
    owner_client, base, overrides, message
):
    response = owner_client.post(f"{base}/new", data=valid_form(**overrides))

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Client) == 0


def test_markup_in_a_name_is_shown_as_text(owner_client, base, workspace):
    add_client(workspace, "<script>alert(1)</script>")

    page = owner_client.get(f"{base}/").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_edit_changes_the_client(owner_client, base, workspace):
    client = add_client(workspace)

    response = owner_client.post(
        f"{base}/{client.id}/edit", data=valid_form(company="La Espiga S.L.")
    )

    db.session.refresh(client)
    assert response.status_code == 302
    assert client.company == "La Espiga S.L."


def test_bad_edit_leaves_the_client_unchanged(owner_client, base, workspace):
    client = add_client(workspace)

    response = owner_client.post(
        f"{base}/{client.id}/edit", data=valid_form(name="", company="Other")
    )

    db.session.refresh(client)
    assert response.status_code == 422
    assert (client.name, client.company) == ("Lucía Fernández", "Panadería La Espiga")


def test_form_without_csrf_token_is_refused(app, owner_client, base, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    response = owner_client.post(f"{base}/new", data=valid_form())

    assert response.status_code == 400
    assert count(Client) == 0


def test_archive_without_csrf_token_is_refused(
    app, owner_client, base, workspace, monkeypatch
):
    client = add_client(workspace)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    response = owner_client.post(f"{base}/{client.id}/archive")

    db.session.refresh(client)
    assert response.status_code == 400
    assert client.archived is False


def test_archive_with_the_pages_csrf_token_works(
    app, owner_client, base, workspace, monkeypatch
):
    client = add_client(workspace)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = owner_client.get(f"{base}/{client.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]

    response = owner_client.post(
        f"{base}/{client.id}/archive", data={"csrf_token": token}
    )

    db.session.refresh(client)
    assert response.status_code == 302
    assert client.archived is True


# The client's page


def test_detail_shows_contact_billing_and_figures(owner_client, base, workspace):
    client = add_client(
        workspace, tax_id="B76543210", bank_details="IBAN ES00 0000", phone="+34 600"
    )
    add_invoice(client, 5000, number="2026-0007")

    page = owner_client.get(f"{base}/{client.id}").get_data(as_text=True)

    for text in ("lucia@laespiga.example", "B76543210", "IBAN ES00 0000", "€50.00"):
        assert text in page


def test_detail_lists_invoices_with_number_dates_total_and_status(
    owner_client, base, workspace
):
    client = add_client(workspace)
    add_invoice(client, 121000, number="2026-0042", issue_date=date(2026, 1, 15))
    add_invoice(client, 5000, "draft")

    page = owner_client.get(f"{base}/{client.id}").get_data(as_text=True)

    invoices = page.split('id="invoices"')[1].split("</section>")[0]
    assert "2026-0042" in invoices and "Jan 15, 2026" in invoices
    assert "€1,210.00" in invoices and "Feb 14, 2026" in invoices
    assert "Draft" in invoices and "€50.00" in invoices


@pytest.mark.parametrize(
    ("paid", "due_in_days", "status"),
    [(1000, -30, "paid"), (400, -1, "overdue"), (0, 0, "pending")],
)
def test_detail_shows_each_invoices_derived_status(
    owner_client, base, workspace, paid, due_in_days, status
):
    client = add_client(workspace)
    invoice = add_invoice(client, 1000, number="2026-0001")
    invoice.due_date = today_in(workspace) + timedelta(days=due_in_days)
    if paid:
        add_payment(invoice, paid)
    db.session.commit()

    page = owner_client.get(f"{base}/{client.id}").get_data(as_text=True)

    assert f"cf-invoice-{status}" in page.split('id="invoices"')[1]


def test_detail_shows_the_latest_invoices_and_links_to_all(
    owner_client, base, workspace
):
    client = add_client(workspace)
    for n in range(1, 15):
        add_invoice(client, 1000, number=f"2026-{n:04d}", issue_date=date(2026, 1, n))

    page = owner_client.get(f"{base}/{client.id}").get_data(as_text=True)
    full = owner_client.get(f"{base}/{client.id}?invoices=all").get_data(as_text=True)

    assert "2026-0014" in page and "2026-0002" not in page
    assert "Show all 14 invoices" in page
    assert "2026-0001" in full and "Show all" not in full


def test_detail_lists_opportunities(owner_client, base, workspace):
    client = add_client(workspace)
    add_opportunity(client, "Rebranding 2027", value_minor=800000, probability=40)

    page = owner_client.get(f"{base}/{client.id}").get_data(as_text=True)

    opportunities = page.split('id="opportunities"')[1].split("</section>")[0]
    assert "Rebranding 2027" in opportunities and "€8,000.00" in opportunities


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("GET", "/edit"),
        ("POST", "/edit"),
        ("POST", "/archive"),
        ("POST", "/unarchive"),
        ("POST", "/delete"),
        ("POST", "/projects/new"),
        ("POST", "/interactions/new"),
        ("POST", "/message"),
    ],
)
def test_client_of_another_workspace_answers_404(
    owner_client, base, make_workspace, method, path
):
    theirs = add_client(make_workspace(), "Theirs")

    response = owner_client.open(
        f"{base}/{theirs.id}{path}", method=method, data=valid_form()
    )

    db.session.refresh(theirs)
    assert response.status_code == 404
    assert (theirs.name, theirs.archived) == ("Theirs", False)
    assert count(Project) == count(Interaction) == 0


def test_project_of_another_client_answers_404(owner_client, base, workspace):
    mine = add_client(workspace, "Mine")
    other = add_client(workspace, "Other")
    project = add_project(other)

    response = owner_client.post(
        f"{base}/{mine.id}/projects/{project.id}/status", data={"status": "paused"}
    )

    assert response.status_code == 404
    assert project.status == "active"


def test_detail_query_count_does_not_grow_with_its_records(
    owner_client, base, workspace, query_counter
):
    client = add_client(workspace)
    add_project(client)
    add_invoice(client, 1000, number="2026-0001")
    add_interaction(client, utc(2026, 1, 1))
    add_opportunity(client)
    start_cold()
    with query_counter() as few:
        first = owner_client.get(f"{base}/{client.id}")
    for n in range(2, 22):
        add_project(client, f"Project {n}")
        add_invoice(client, 1000 * n, number=f"2026-{n:04d}")
        add_interaction(client, utc(2026, 1, n))
        add_opportunity(client, f"Deal {n}")
    start_cold()

    with query_counter() as many:
        second = owner_client.get(f"{base}/{client.id}")

    assert (first.status_code, second.status_code) == (200, 200)
    assert len(many) == len(few)


# Archiving and deleting


def test_archive_hides_the_client_and_keeps_it(owner_client, base, workspace):
    client = add_client(workspace)

    response = owner_client.post(f"{base}/{client.id}/archive")

    db.session.refresh(client)
    assert response.status_code == 302
    assert client.archived is True
    assert "cf-client-card" not in owner_client.get(f"{base}/").get_data(as_text=True)


def test_unarchive_brings_the_client_back(owner_client, base, workspace):
    client = add_client(workspace, archived=True)

    owner_client.post(f"{base}/{client.id}/unarchive")

    db.session.refresh(client)
    assert client.archived is False


def test_client_with_invoices_is_never_deleted(owner_client, base, workspace):
    client = add_client(workspace)
    add_invoice(client, 1000, number="2026-0001")

    response = owner_client.post(f"{base}/{client.id}/delete")

    assert response.status_code == 409
    assert "cannot be deleted" in response.get_data(as_text=True)
    assert count(Client) == 1


def test_detail_offers_no_delete_for_a_client_with_invoices(
    owner_client, base, workspace
):
    client = add_client(workspace)
    add_invoice(client, 1000, "draft")

    page = owner_client.get(f"{base}/{client.id}").get_data(as_text=True)

    assert f'href="{base}/{client.id}/delete"' not in page


def test_client_without_records_can_be_deleted(owner_client, base, workspace):
    client = add_client(workspace)
    add_project(client)

    response = owner_client.post(f"{base}/{client.id}/delete")

    assert response.status_code == 302
    assert (count(Client), count(Project)) == (0, 0)


# Projects and interactions


def test_new_project_is_added_to_the_client(owner_client, base, workspace):
    client = add_client(workspace)

    response = owner_client.post(
        f"{base}/{client.id}/projects/new",
        data={"name": "Tienda online", "status": "active", "start_date": "2026-02-01"},
    )

    project = db.session.scalars(sa.select(Project)).one()
    assert response.status_code == 302
    assert (project.client_id, project.name, project.start_date) == (
        client.id,
        "Tienda online",
        date(2026, 2, 1),
    )


def test_project_ending_before_it_starts_is_explained(owner_client, base, workspace):
    client = add_client(workspace)

    response = owner_client.post(
        f"{base}/{client.id}/projects/new",
        data={
            "name": "Web",
            "status": "active",
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
        },
    )

    assert response.status_code == 422
    assert "The end date cannot be before the start date." in response.get_data(
        as_text=True
    )
    assert count(Project) == 0


def test_project_status_changes_from_the_client_page(owner_client, base, workspace):
    project = add_project(add_client(workspace))

    response = owner_client.post(
        f"{base}/{project.client_id}/projects/{project.id}/status",
        data={"status": "completed"},
    )

    db.session.refresh(project)
    assert response.status_code == 302
    assert project.status == "completed"


def test_unknown_project_status_is_explained(owner_client, base, workspace):
    project = add_project(add_client(workspace))

    response = owner_client.post(
        f"{base}/{project.client_id}/projects/{project.id}/status",
        data={"status": "finished?"},
    )

    db.session.refresh(project)
    assert response.status_code == 422
    assert "Choose active, paused, completed or cancelled." in response.get_data(
        as_text=True
    )
    assert project.status == "active"


def test_interaction_logged_by_hand_becomes_the_last_one(
    owner_client, base, workspace, owner
):
    client = add_client(workspace)
    add_interaction(client, utc(2026, 1, 1))
    yesterday = today_in(workspace) - timedelta(days=1)

    response = owner_client.post(
        f"{base}/{client.id}/interactions/new",
        data={
            "kind": "meeting",
            "occurred_on": yesterday.isoformat(),
            "summary": "Kick-off",
        },
    )

    latest = db.session.scalars(
        sa.select(Interaction).order_by(Interaction.occurred_at.desc())
    ).first()
    assert response.status_code == 302
    assert (latest.kind, latest.summary, latest.user_id) == (
        "meeting",
        "Kick-off",
        owner.id,
    )


def test_interaction_dated_tomorrow_is_refused(owner_client, base, workspace):
    client = add_client(workspace)
    tomorrow = today_in(workspace) + timedelta(days=1)

    response = owner_client.post(
        f"{base}/{client.id}/interactions/new",
        data={"kind": "call", "occurred_on": tomorrow.isoformat(), "summary": "Hi"},
    )

    assert response.status_code == 422
    assert "cannot be in the future" in response.get_data(as_text=True)
    assert count(Interaction) == 0


def test_interaction_without_summary_is_refused(owner_client, base, workspace):
    client = add_client(workspace)

    response = owner_client.post(
        f"{base}/{client.id}/interactions/new",
        data={"kind": "call", "occurred_on": "2026-01-05", "summary": " "},
    )

    assert response.status_code == 422
    assert count(Interaction) == 0
