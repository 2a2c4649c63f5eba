"""Client records, projects and interactions through the domain functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from clientflow_plugin import clients
from clientflow_plugin.clock import today_in
from clientflow_plugin.models import Client, Interaction, Project
from host_stub.extensions import db
from tests.clientflow.clients_factories import (
    add_client,
    add_interaction,
    add_invoice,
    add_opportunity,
    add_project,
    utc,
)


def client_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Client.id)))


def test_create_client_normalises_its_values(workspace):
    client = clients.create_client(
        workspace.id,
        {
            "name": "  Lucía Fernández ",
            "email": "Lucia@LaEspiga.Example",
            "website": "laespiga.example",
            "region": "es-cn",
            "status": "prospect",
        },
    )

    assert (client.name, client.email, client.website, client.region) == (
        "Lucía Fernández",
        "Lucia@laespiga.example",
        "https://laespiga.example",
        "ES-CN",
    )
    assert client.status == "prospect"


def test_billing_details_are_encrypted_at_rest(workspace):
    client = clients.create_client(workspace.id, {"name": "Ana", "tax_id": "B12345678"})
    db.session.commit()

    stored = db.session.execute(
        sa.text("select tax_id from clientflow_clients where id = :id"),
        {"id": client.id},
    ).scalar_one()

    assert "B12345678" not in stored
    assert clients.get_client(workspace.id, client.id).tax_id == "B12345678"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": "Ana", "email": "not-an-email"}, "email"),
        ({"name": "Ana", "status": "vip"}, "status"),
        ({"name": "Ana", "region": "Spain and Portugal"}, "region"),
        ({"name": "Ana", "website": "javascript:alert(1)"}, "website"),
        ({"name": "Ana\x00"}, "name"),
        ({"name": "Ana", "company": "x" * 201}, "company"),
        ({"name": "Ana", "billing_notes": "x" * 2001}, "billing_notes"),
        ({"name": "Ana", "colour": "red"}, "colour"),
    ],
)
def test_bad_client_data_is_refused_and_nothing_stored(workspace, data, field):
    with pytest.raises(clients.ValidationError) as raised:
        clients.create_client(workspace.id, data)
    db.session.rollback()

    assert field in raised.value.errors
    assert client_count() == 0


def test_markup_in_a_name_is_stored_as_typed(workspace):
    client = clients.create_client(workspace.id, {"name": "<b>Ana</b> & Co"})

    assert client.name == "<b>Ana</b> & Co"


def test_update_changes_only_the_fields_given(workspace):
    client = add_client(workspace, "Ana", company="Costa Surf")

    clients.update_client(workspace.id, client.id, {"company": "Costa Surf School"})

    assert (client.name, client.company) == ("Ana", "Costa Surf School")


def test_update_of_another_workspaces_client_is_not_found(workspace, make_workspace):
    theirs = add_client(make_workspace(), "Theirs")

    with pytest.raises(clients.ClientNotFound):
        clients.update_client(workspace.id, theirs.id, {"name": "Mine now"})

    db.session.refresh(theirs)
    assert theirs.name == "Theirs"


def test_get_client_of_another_workspace_gives_none(workspace, make_workspace):
    theirs = add_client(make_workspace(), "Theirs")

    assert clients.get_client(workspace.id, theirs.id) is None


def test_duplicate_external_id_is_refused(workspace):
    clients.create_client(workspace.id, {"name": "Ana", "external_id": "crm-1"})

    with pytest.raises(clients.ValidationError) as raised:
        clients.create_client(workspace.id, {"name": "Bea", "external_id": "crm-1"})

    assert "external_id" in raised.value.errors


def test_archive_sets_the_flag_and_the_moment(workspace):
    client = add_client(workspace)

    clients.archive_client(workspace.id, client.id)

    assert client.archived is True
    assert client.archived_at is not None


def test_unarchive_clears_the_flag_and_the_moment(workspace):
    client = add_client(workspace, archived=True, archived_at=utc(2026, 1, 1))

    clients.unarchive_client(workspace.id, client.id)

    assert (client.archived, client.archived_at) == (False, None)


def test_client_with_invoices_cannot_be_deleted(workspace):
    client = add_client(workspace)
    add_invoice(client, 1000, "void", number="2026-0001")

    with pytest.raises(clients.ClientInUseError):
        clients.delete_client(workspace.id, client.id)

    assert client_count() == 1


def test_client_with_opportunities_cannot_be_deleted(workspace):
    client = add_client(workspace)
    add_opportunity(client)

    with pytest.raises(clients.ClientInUseError):
        clients.delete_client(workspace.id, client.id)

    assert client_count() == 1


def test_deleting_a_client_removes_its_projects_and_interactions(workspace):
    client = add_client(workspace)
    add_project(client)
    add_interaction(client, utc(2026, 1, 1))

    clients.delete_client(workspace.id, client.id)
    db.session.commit()

    counts = [
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Client, Project, Interaction)
    ]
    assert counts == [0, 0, 0]


def test_deletion_blockers_count_each_kind(workspace):
    client = add_client(workspace)
    add_invoice(client, 1000, number="2026-0001")
    add_invoice(client, 2000, "draft")
    add_opportunity(client)

    blockers = clients.deletion_blockers(workspace.id, client.id)

    assert blockers == {"invoices": 2, "opportunities": 1}


def test_project_ending_before_it_starts_is_refused(workspace):
    client = add_client(workspace)

    with pytest.raises(clients.ValidationError) as raised:
        clients.create_project(
            workspace.id,
            client.id,
            {
                "name": "Web",
                "start_date": date(2026, 5, 1),
                "end_date": date(2026, 4, 30),
            },
        )

    assert "end_date" in raised.value.errors


def test_project_status_change_is_kept(workspace):
    project = add_project(add_client(workspace), status="active")

    clients.update_project(
        workspace.id, project.client_id, project.id, {"status": "completed"}
    )

    assert project.status == "completed"


def test_unknown_project_status_is_refused_and_the_old_one_kept(workspace):
    project = add_project(add_client(workspace), status="active")

    with pytest.raises(clients.ValidationError):
        clients.update_project(
            workspace.id, project.client_id, project.id, {"status": "done-ish"}
        )

    assert project.status == "active"


def test_projects_list_active_ones_first(workspace):
    client = add_client(workspace)
    add_project(client, "Old", "completed")
    add_project(client, "Paused", "paused")
    add_project(client, "Live", "active")

    projects = clients.projects_of(workspace.id, client.id)

    assert [p.name for p in projects] == ["Live", "Paused", "Old"]


def test_interaction_in_the_future_is_refused(workspace):
    client = add_client(workspace)
    tomorrow = datetime.now(UTC) + timedelta(days=1)

    with pytest.raises(clients.ValidationError) as raised:
        clients.add_interaction(
            workspace.id, client.id, "call", "Chat", occurred_at=tomorrow
        )

    assert "occurred_at" in raised.value.errors


def test_interaction_of_unknown_kind_is_refused(workspace):
    client = add_client(workspace)

    with pytest.raises(clients.ValidationError) as raised:
        clients.add_interaction(workspace.id, client.id, "fax", "Sent a fax")

    assert "kind" in raised.value.errors


def test_interaction_moves_the_last_interaction(workspace):
    client = add_client(workspace)
    add_interaction(client, utc(2026, 1, 1))

    logged = clients.add_interaction(
        workspace.id, client.id, "meeting", "Kick-off", occurred_at=utc(2026, 2, 1)
    )

    card = clients.client_figures(workspace.id, client.id)
    assert card.last_interaction_at == logged.occurred_at == utc(2026, 2, 1)


def test_interaction_logged_for_an_earlier_day_is_at_local_noon(make_workspace):
    workspace = make_workspace(timezone="America/Mexico_City")

    moment = clients.interaction_moment(workspace, date(2026, 3, 31))

    assert moment == utc(2026, 3, 31, 18)


def test_interaction_logged_for_today_is_now(workspace):
    today = today_in(workspace)

    moment = clients.interaction_moment(workspace, today)

    assert abs(moment - datetime.now(UTC)) < timedelta(seconds=5)


def test_interactions_list_newest_first_with_their_author(workspace, owner):
    client = add_client(workspace)
    clients.add_interaction(
        workspace.id, client.id, "call", "First", occurred_at=utc(2026, 1, 1)
    )
    clients.add_interaction(
        workspace.id,
        client.id,
        "note",
        "Second",
        occurred_at=utc(2026, 1, 2),
        user_id=owner.id,
    )

    rows = clients.interactions_of(workspace.id, client.id)

    assert [(r.summary, r.author) for r in rows] == [
        ("Second", "Olga Owner"),
        ("First", None),
    ]


def test_fold_drops_case_and_accents():
    assert clients.fold("ÁLVARO Íñigo Çava") == "alvaro inigo cava"
