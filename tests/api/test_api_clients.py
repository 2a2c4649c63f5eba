"""Clients and projects through the API."""

from __future__ import annotations

from sqlalchemy import func, select

from clientflow_plugin.models import Client, Project
from host_stub.extensions import db
from tests.api.factories import make_client, make_invoice, make_project


def test_client_is_created(api):
    response = api.post(
        "/clients",
        json={"name": "Añil Estudio", "email": "hola@anil.example", "region": "es"},
    )

    assert response.status_code == 201
    assert response.json["name"] == "Añil Estudio"
    assert response.json["region"] == "ES"
    assert response.json["status"] == "active"


def test_billing_details_are_stored_and_read_back(api):
    created = api.post("/clients", json={"name": "Lumen", "tax_id": "B12345678"})

    read = api.get(f"/clients/{created.json['id']}")

    assert read.json["tax_id"] == "B12345678"


def test_client_needs_a_name(api):
    response = api.post("/clients", json={"company": "Nameless"})

    assert response.status_code == 422
    assert "name" in response.json["fields"]


def test_invalid_email_is_refused_by_field(api):
    response = api.post("/clients", json={"name": "X", "email": "not an email"})

    assert response.status_code == 422
    assert "email" in response.json["fields"]


def test_text_with_a_nul_character_is_refused(api):
    response = api.post("/clients", json={"name": "Bad\x00name"})

    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Client.id))) == 0


def test_client_is_partly_updated(api, workspace):
    client = make_client(workspace, phone="600 000 000")

    response = api.patch(f"/clients/{client.id}", json={"status": "inactive"})

    assert response.status_code == 200
    assert (response.json["status"], response.json["phone"]) == (
        "inactive",
        "600 000 000",
    )


def test_client_of_another_workspace_cannot_be_updated(api, make_workspace):
    stranger = make_client(make_workspace("other"), name="Theirs")

    response = api.patch(f"/clients/{stranger.id}", json={"name": "Ours now"})

    assert response.status_code == 404
    db.session.refresh(stranger)
    assert stranger.name == "Theirs"


def test_list_leaves_archived_clients_out(api, workspace):
    make_client(workspace, name="Current")
    make_client(workspace, name="Old", archived=True)

    names = [c["name"] for c in api.get("/clients").json["items"]]

    assert names == ["Current"]


def test_list_shows_revenue_as_decimal_and_minor(api, workspace):
    client = make_client(workspace)
    make_invoice(workspace, client, lines=[("1", 123456, [])])

    item = api.get("/clients").json["items"][0]

    assert (item["revenue"], item["revenue_minor"]) == ("1234.56", 123456)


def test_list_searches_ignoring_accents(api, workspace):
    make_client(workspace, name="Diseño Añil")
    make_client(workspace, name="Lumen")

    names = [c["name"] for c in api.get("/clients?search=anil").json["items"]]

    assert names == ["Diseño Añil"]


def test_project_is_created_for_a_client(api, workspace):
    client = make_client(workspace)

    response = api.post(
        f"/clients/{client.id}/projects",
        json={"name": "Relaunch", "start_date": "2026-01-10"},
    )

    assert response.status_code == 201
    assert response.json["client_id"] == client.id
    assert response.json["status"] == "active"


def test_project_ending_before_it_starts_is_refused(api, workspace):
    client = make_client(workspace)

    response = api.post(
        f"/clients/{client.id}/projects",
        json={"name": "Relaunch", "start_date": "2026-02-10", "end_date": "2026-01-10"},
    )

    assert response.status_code == 422
    assert "end_date" in response.json["fields"]
    assert db.session.scalar(select(func.count(Project.id))) == 0


def test_projects_are_listed_per_client(api, workspace):
    client = make_client(workspace)
    other = make_client(workspace, name="Other")
    make_project(client, name="Ours")
    make_project(other, name="Not ours")

    items = api.get(f"/clients/{client.id}/projects").json["items"]

    assert [p["name"] for p in items] == ["Ours"]


def test_project_for_a_client_of_another_workspace_answers_404(api, make_workspace):
    stranger = make_client(make_workspace("other"))

    response = api.post(f"/clients/{stranger.id}/projects", json={"name": "Sneaky"})

    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Project.id))) == 0


def test_website_that_is_no_web_address_is_refused_by_field(api):
    response = api.post("/clients", json={"name": "X", "website": "[not a host]"})

    assert response.status_code == 422
    assert "website" in response.json["fields"]
