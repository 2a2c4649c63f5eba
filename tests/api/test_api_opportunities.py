"""Opportunities of the pipeline through the API."""

from __future__ import annotations

from sqlalchemy import func, select

from clientflow_plugin.models import LostReason, Opportunity
from host_stub.extensions import db
from tests.api.factories import make_client, make_opportunity


def reason_of(workspace, other: bool = False) -> LostReason:
    return db.session.scalar(
        select(LostReason).where(
            LostReason.workspace_id == workspace.id, LostReason.is_other.is_(other)
        )
    )


def test_opportunity_is_created_for_a_prospect(api):
    response = api.post(
        "/opportunities",
        json={"prospect_name": "Ana", "title": "New shop", "value": "1000.00"},
    )

    assert response.status_code == 201
    data = response.json
    assert (data["stage"], data["probability"]) == ("prospect", 10)
    assert (data["value"], data["weighted_value"]) == ("1000.00", "100.00")


def test_weighted_value_is_value_times_probability(api, workspace):
    opportunity = make_opportunity(workspace, value_minor=10000, probability=99)

    data = api.get(f"/opportunities/{opportunity.id}").json

    assert (data["weighted_value"], data["weighted_value_minor"]) == ("99.00", 9900)


def test_opportunity_needs_a_client_or_a_prospect(api):
    response = api.post("/opportunities", json={"title": "Nobody"})

    assert response.status_code == 422
    assert "prospect_name" in response.json["fields"]


def test_opportunity_cannot_start_closed(api):
    response = api.post("/opportunities", json={"prospect_name": "A", "stage": "won"})

    assert response.status_code == 422
    assert "stage" in response.json["fields"]


def test_client_of_another_workspace_is_refused(api, make_workspace):
    stranger = make_client(make_workspace("other"))

    response = api.post("/opportunities", json={"client_id": stranger.id})

    assert response.status_code == 422
    assert "client_id" in response.json["fields"]
    assert db.session.scalar(select(func.count(Opportunity.id))) == 0


def test_javascript_link_is_refused_as_proposal(api):
    response = api.post(
        "/opportunities",
        json={"prospect_name": "A", "proposal_url": "javascript:alert(1)"},
    )

    assert response.status_code == 422
    assert "proposal_url" in response.json["fields"]


def test_stage_move_follows_the_default_probability(api, workspace):
    opportunity = make_opportunity(workspace, stage="prospect", probability=10)

    response = api.post(
        f"/opportunities/{opportunity.id}/stage", json={"stage": "proposal"}
    )

    assert response.status_code == 200
    assert response.json["stage"] == "proposal"
    assert response.json["probability"] != 10


def test_lost_needs_a_reason(api, workspace):
    opportunity = make_opportunity(workspace)

    response = api.post(
        f"/opportunities/{opportunity.id}/stage", json={"stage": "lost"}
    )

    assert response.status_code == 422
    assert "lost_reason_id" in response.json["fields"]
    db.session.refresh(opportunity)
    assert opportunity.stage == "qualified"


def test_lost_with_a_reason_closes_it(api, workspace):
    opportunity = make_opportunity(workspace)

    response = api.post(
        f"/opportunities/{opportunity.id}/stage",
        json={"stage": "lost", "lost_reason_id": reason_of(workspace).id},
    )

    assert response.status_code == 200
    assert response.json["closed_on"] is not None
    assert response.json["lost_reason"] == reason_of(workspace).label


def test_lost_reason_of_another_workspace_is_refused(api, workspace, make_workspace):
    other = make_workspace("other")
    opportunity = make_opportunity(workspace)

    response = api.post(
        f"/opportunities/{opportunity.id}/stage",
        json={"stage": "lost", "lost_reason_id": reason_of(other).id},
    )

    assert response.status_code == 422


def test_list_filters_by_stage(api, workspace):
    make_opportunity(workspace, stage="prospect", title="Early")
    make_opportunity(workspace, stage="negotiation", title="Late")

    items = api.get("/opportunities?stage=negotiation").json["items"]

    assert [o["title"] for o in items] == ["Late"]


def test_opportunity_of_another_workspace_answers_404(api, make_workspace):
    theirs = make_opportunity(make_workspace("other"))

    read = api.get(f"/opportunities/{theirs.id}")
    move = api.post(f"/opportunities/{theirs.id}/stage", json={"stage": "won"})

    assert (read.status_code, move.status_code) == (404, 404)
    db.session.refresh(theirs)
    assert theirs.stage == "qualified"
