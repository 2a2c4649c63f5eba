"""The pipeline pages: board, moves, forms, downloads and who may see them."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from clientflow_plugin import pipeline
from clientflow_plugin.clock import today_in
from clientflow_plugin.models import (
    Client,
    LostReason,
    Opportunity,
    ProposalFile,
    Stage,
    StageChange,
)
from clientflow_plugin.pipeline import ProposalUpload
from host_stub.extensions import db
from tests.clientflow.pipeline_factories import (
    add_client,
    add_opportunity,
    bulk_opportunities,
    pdf_bytes,
    reason,
)


def base(workspace) -> str:
    return f"/w/{workspace.slug}/clientflow/pipeline"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stage_of(opportunity_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Opportunity, opportunity_id).stage


def form_data(**overrides) -> dict:
    data = {
        "client_id": "",
        "prospect_name": "Marta Gil",
        "prospect_company": "Gil Interiores",
        "title": "New website",
        "stage": "proposal",
        "value": "12000.00",
        "probability": "",
        "proposal_url": "",
        "proposal_sent_on": "",
        "next_follow_up": "",
        "next_step": "Call on Monday",
        "notes": "",
    }
    data.update(overrides)
    return data


# -- the board -----------------------------------------------------------------


def test_board_has_a_column_per_stage_with_its_sums(owner_client, workspace):
    add_opportunity(workspace, Stage.PROPOSAL, value_minor=12_000_00)
    add_opportunity(workspace, Stage.PROPOSAL, value_minor=3_000_00, probability=20)

    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)

    for stage in ("prospect", "qualified", "proposal", "negotiation", "won", "lost"):
        assert f'data-column="{stage}"' in page
    proposal = page.split('data-column="proposal"')[1].split('data-column="')[0]
    assert '<span class="cf-col-count" data-count>2</span>' in proposal
    assert "€15,000.00" in proposal
    assert "€6,600.00" in proposal


def test_board_leaves_out_opportunities_closed_long_ago(owner_client, workspace):
    long_ago = datetime.now(UTC) - timedelta(days=120)
    old = add_opportunity(workspace, Stage.NEGOTIATION, title="Old win")
    pipeline.move_stage(old, Stage.WON, actor_id=None, at=long_ago)
    recent = add_opportunity(workspace, Stage.NEGOTIATION, title="Fresh win")
    pipeline.move_stage(recent, Stage.WON, actor_id=None)

    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)

    assert "Fresh win" in page
    assert "Old win" not in page
    assert "Closed in the last 90 days" in page


def test_a_card_with_a_past_follow_up_is_red(owner_client, workspace):
    yesterday = today_in(workspace) - timedelta(days=1)
    add_opportunity(workspace, Stage.PROPOSAL, next_follow_up=yesterday)

    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)

    assert re.search(r'class="cf-opp is-overdue"', page)
    assert "Overdue since" in page


def test_a_card_due_tomorrow_is_not_red(owner_client, workspace):
    tomorrow = today_in(workspace) + timedelta(days=1)
    add_opportunity(workspace, Stage.PROPOSAL, next_follow_up=tomorrow)

    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)

    assert "is-overdue" not in page


def test_board_page_runs_as_many_queries_for_200_cards_as_for_5(
    app, make_workspace, make_user, login, query_counter
):
    counts = []
    for size in (5, 200):
        workspace = make_workspace()
        client = login(app.test_client(), make_user("agency_owner", workspace))
        bulk_opportunities(workspace, size)
        url = base(workspace) + "/"

        with query_counter() as statements:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(statements))

    assert counts[0] == counts[1]


def test_board_carries_the_csrf_token_and_the_scripts(owner_client, workspace):
    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)

    assert '<meta name="csrf-token"' in page
    assert "vendor/Sortable.min.js" in page
    assert "pipeline.js" in page
    assert "<script>" not in page
    assert "style=" not in page


# -- moving ------------------------------------------------------------------


def test_card_form_moves_the_card_and_records_the_change(
    owner_client, owner, workspace
):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL)

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/move",
        data={"stage": "negotiation", "return_to": "board"},
    )

    assert response.status_code == 302
    assert response.location.endswith("/pipeline/")
    assert stage_of(opportunity.id) == "negotiation"
    change = db.session.scalars(
        select(StageChange).order_by(StageChange.id.desc())
    ).first()
    assert (change.from_stage, change.to_stage, change.user_id) == (
        "proposal",
        "negotiation",
        owner.id,
    )


def test_dragging_answers_with_the_new_column_sums(owner_client, workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL, value_minor=1_000_00)

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/move",
        data={"stage": "negotiation", "position": "0"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["opportunity"]["stage"] == "negotiation"
    assert body["opportunity"]["probability"] == 75
    columns = {c["stage"]: c for c in body["columns"]}
    assert columns["proposal"] == {
        "stage": "proposal",
        "count": 0,
        "total": "€0.00",
        "weighted": "€0.00",
    }
    assert columns["negotiation"]["total"] == "€1,000.00"
    assert columns["negotiation"]["weighted"] == "€750.00"


def test_moving_to_lost_asks_for_the_reason_instead_of_moving(owner_client, workspace):
    opportunity = add_opportunity(workspace, Stage.NEGOTIATION)

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/move", data={"stage": "lost"}
    )

    assert response.status_code == 302
    assert response.location.endswith(f"/pipeline/{opportunity.id}/lost")
    assert stage_of(opportunity.id) == "negotiation"


def test_dragging_to_lost_answers_409_with_the_reason_form(owner_client, workspace):
    opportunity = add_opportunity(workspace, Stage.NEGOTIATION)

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/move",
        data={"stage": "lost", "position": "0"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 409
    assert response.get_json()["redirect"].endswith(f"/{opportunity.id}/lost")
    assert stage_of(opportunity.id) == "negotiation"


def test_moving_to_an_unknown_stage_answers_400(owner_client, workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL)

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/move",
        data={"stage": "archived"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == "Choose one of the pipeline's stages."
    assert stage_of(opportunity.id) == "proposal"


def test_dragging_needs_the_csrf_token_when_csrf_is_on(
    app, owner_client, workspace, monkeypatch
):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL)
    url = f"{base(workspace)}/{opportunity.id}/move"
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    json = {"Accept": "application/json"}

    refused = owner_client.post(url, data={"stage": "negotiation"}, headers=json)
    accepted = owner_client.post(
        url, data={"stage": "negotiation"}, headers={**json, "X-CSRFToken": token}
    )

    assert refused.status_code == 400
    assert accepted.status_code == 200
    assert stage_of(opportunity.id) == "negotiation"


# -- closing -------------------------------------------------------------------


def test_lost_form_without_a_reason_says_so_and_changes_nothing(
    owner_client, workspace
):
    opportunity = add_opportunity(workspace, Stage.NEGOTIATION)

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/lost", data={"lost_note": ""}
    )

    assert response.status_code == 400
    assert "Choose why the opportunity was lost." in response.get_data(as_text=True)
    assert stage_of(opportunity.id) == "negotiation"


def test_lost_form_with_other_and_no_note_says_so(owner_client, workspace):
    opportunity = add_opportunity(workspace, Stage.NEGOTIATION)
    other = reason(workspace, "Other")

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/lost",
        data={"lost_reason_id": str(other.id), "lost_note": ""},
    )

    assert response.status_code == 400
    assert "Say in a few words why it was lost." in response.get_data(as_text=True)
    assert stage_of(opportunity.id) == "negotiation"


def test_lost_form_with_a_reason_of_another_workspace_is_refused(
    owner_client, workspace, make_workspace
):
    opportunity = add_opportunity(workspace, Stage.NEGOTIATION)
    foreign = reason(make_workspace(), "Price")

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/lost",
        data={"lost_reason_id": str(foreign.id)},
    )

    assert response.status_code == 400
    assert stage_of(opportunity.id) == "negotiation"


def test_lost_form_closes_the_opportunity_with_its_reason(owner_client, workspace):
    opportunity = add_opportunity(workspace, Stage.NEGOTIATION)
    price = reason(workspace, "Price")

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/lost",
        data={"lost_reason_id": str(price.id), "lost_note": "20 % over budget"},
    )

    db.session.expire_all()
    lost = db.session.get(Opportunity, opportunity.id)
    assert response.status_code == 302
    assert (lost.stage, lost.lost_reason_id, lost.lost_note) == (
        "lost",
        price.id,
        "20 % over budget",
    )


def test_won_form_turns_the_prospect_into_a_client(owner_client, workspace):
    opportunity = add_opportunity(
        workspace, Stage.NEGOTIATION, prospect_name="Iker Zubiri", title="Shop"
    )

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/won",
        data={"create_client": "y", "project_name": "Shop launch"},
    )

    client = db.session.scalars(select(Client)).one()
    assert response.status_code == 302
    assert (client.name, client.workspace_id) == ("Iker Zubiri", workspace.id)
    assert stage_of(opportunity.id) == "won"


def test_reopening_from_the_detail_page_is_recorded(owner_client, workspace):
    opportunity = add_opportunity(workspace, Stage.WON)

    owner_client.post(
        f"{base(workspace)}/{opportunity.id}/move",
        data={"stage": "negotiation", "return_to": "detail"},
    )
    page = owner_client.get(f"{base(workspace)}/{opportunity.id}").get_data(
        as_text=True
    )

    assert stage_of(opportunity.id) == "negotiation"
    assert "Reopened" in page


# -- the opportunity form ------------------------------------------------------


def test_new_opportunity_form_creates_it(owner_client, workspace):
    response = owner_client.post(
        base(workspace) + "/new", data=form_data(next_follow_up="2026-06-01")
    )

    created = db.session.scalars(select(Opportunity)).one()
    assert response.status_code == 302
    assert (created.value_minor, created.probability, created.stage) == (
        12_000_00,
        50,
        "proposal",
    )
    assert created.next_follow_up == date(2026, 6, 1)


def test_amounts_are_read_in_the_reader_language(app, make_user, login, workspace):
    spanish = login(
        app.test_client(), make_user("agency_owner", workspace, language="es")
    )

    spanish.post(base(workspace) + "/new", data=form_data(value="1.234,56"))

    assert db.session.scalars(select(Opportunity.value_minor)).one() == 1_234_56


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"probability": "101"}, "The probability must be between 0 and 100."),
        ({"probability": "-1"}, "The probability must be between 0 and 100."),
        ({"value": "-5"}, "The estimated value cannot be negative."),
        ({"value": "twelve"}, "Enter an amount such as 1500.00."),
        ({"stage": "closed"}, "Not a valid choice"),
        ({"prospect_name": "", "prospect_company": ""}, "Choose a client or type"),
        ({"proposal_url": "javascript:alert(1)"}, "web address"),
    ],
)
def test_bad_opportunity_form_shows_the_message_and_saves_nothing(
    owner_client, workspace, overrides, message
):
    response = owner_client.post(base(workspace) + "/new", data=form_data(**overrides))

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(Opportunity) == 0


def test_a_client_of_another_workspace_cannot_be_chosen(
    owner_client, workspace, make_workspace
):
    stranger = add_client(make_workspace(), name="Someone Else")

    response = owner_client.post(
        base(workspace) + "/new", data=form_data(client_id=str(stranger.id))
    )

    assert response.status_code == 400
    assert count(Opportunity) == 0


def test_a_bad_edit_leaves_the_opportunity_as_it_was(owner_client, workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL, value_minor=900_00)

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/edit",
        data=form_data(value="950", probability="101"),
    )

    db.session.expire_all()
    kept = db.session.get(Opportunity, opportunity.id)
    assert response.status_code == 400
    assert (kept.value_minor, kept.probability) == (900_00, 50)


def test_edit_form_shows_the_value_as_typed_amount(owner_client, workspace):
    opportunity = add_opportunity(workspace, value_minor=1_500_00)

    page = owner_client.get(f"{base(workspace)}/{opportunity.id}/edit").get_data(
        as_text=True
    )

    assert 'value="1500.00"' in page


# -- proposal files ------------------------------------------------------------


def upload(content: bytes, name: str = "proposal.pdf") -> tuple:
    return (io.BytesIO(content), name, "application/pdf")


def test_an_uploaded_text_file_named_pdf_is_refused(owner_client, workspace):
    response = owner_client.post(
        base(workspace) + "/new",
        data=form_data(proposal_file=upload(b"just some text")),
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "not a PDF document" in response.get_data(as_text=True)
    assert (count(Opportunity), count(ProposalFile)) == (0, 0)


def test_an_upload_over_10_mb_is_refused(owner_client, workspace):
    pdf = pdf_bytes()
    big = pdf[:9] + b"%" + b"x" * (10 * 1024 * 1024) + b"\n" + pdf[9:]

    # Encoded in memory: the test client would spool a body this large to a
    # temporary file that it never closes.
    boundary, body = encode_multipart(
        {
            **form_data(),
            "proposal_file": FileStorage(io.BytesIO(big), "big.pdf", "proposal_file"),
        }
    )

    response = owner_client.post(
        base(workspace) + "/new",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )

    assert response.status_code == 400
    assert "larger than 10 MB" in response.get_data(as_text=True)
    assert (count(Opportunity), count(ProposalFile)) == (0, 0)


def test_the_owner_downloads_the_proposal_as_an_attachment(owner_client, workspace):
    content = pdf_bytes()
    owner_client.post(
        base(workspace) + "/new",
        data=form_data(proposal_file=upload(content, "Propuesta Gil.pdf")),
        content_type="multipart/form-data",
    )
    opportunity = db.session.scalars(select(Opportunity)).one()

    response = owner_client.get(f"{base(workspace)}/{opportunity.id}/proposal")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Propuesta" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data == content


def proposal_url(workspace) -> str:
    opportunity = add_opportunity(
        workspace, proposal=ProposalUpload("p.pdf", pdf_bytes())
    )
    return f"{base(workspace)}/{opportunity.id}/proposal"


def test_the_proposal_is_refused_to_the_owner_of_another_workspace(
    app, workspace, make_workspace, make_user, login
):
    url = proposal_url(workspace)
    other = make_workspace()
    outsider = login(app.test_client(), make_user("agency_owner", other))

    response = outsider.get(url)
    through_own = outsider.get(
        url.replace(f"/w/{workspace.slug}/", f"/w/{other.slug}/")
    )

    assert response.status_code == 404
    assert through_own.status_code == 404


@pytest.mark.parametrize("role", ["manager", "developer", "client"])
def test_the_proposal_is_refused_to_other_roles(role_client, workspace, role):
    url = proposal_url(workspace)

    response = role_client(role).get(url)

    assert response.status_code == 403
    assert b"%PDF" not in response.data


# -- other workspaces' ids -----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("get", "", None),
        ("get", "/edit", None),
        ("post", "/edit", form_data(value="1")),
        ("post", "/move", {"stage": "won"}),
        ("post", "/lost", {"lost_reason_id": "1"}),
        ("post", "/won", {"create_client": "y"}),
        ("post", "/follow-up", {"next_follow_up": "2026-01-01"}),
        ("get", "/proposal", None),
    ],
)
def test_opportunity_of_another_workspace_answers_404_and_stays_unchanged(
    owner_client, make_workspace, method, suffix, data
):
    other = make_workspace()
    theirs = add_opportunity(
        other,
        Stage.PROPOSAL,
        value_minor=5_000_00,
        proposal=ProposalUpload("p.pdf", pdf_bytes()),
    )
    url = f"/w/acme/clientflow/pipeline/{theirs.id}{suffix}"

    response = getattr(owner_client, method)(url, data=data)

    db.session.expire_all()
    kept = db.session.get(Opportunity, theirs.id)
    assert response.status_code == 404
    assert (kept.stage, kept.value_minor, kept.next_follow_up) == (
        "proposal",
        5_000_00,
        None,
    )
    assert count(Client) == 0


def test_lost_reason_of_another_workspace_cannot_be_archived(
    owner_client, workspace, make_workspace
):
    foreign = reason(make_workspace(), "Price")

    response = owner_client.post(
        f"{base(workspace)}/lost-reasons/{foreign.id}/archive", data={"archived": "1"}
    )

    db.session.expire_all()
    assert response.status_code == 404
    assert db.session.get(LostReason, foreign.id).archived is False


# -- follow-ups, reasons, report -------------------------------------------


def test_follow_ups_page_lists_overdue_and_this_week(owner_client, workspace):
    today = today_in(workspace)
    add_opportunity(workspace, title="Late one", next_follow_up=today - timedelta(3))
    add_opportunity(workspace, title="Soon one", next_follow_up=today + timedelta(2))
    add_opportunity(workspace, title="Far one", next_follow_up=today + timedelta(30))

    page = owner_client.get(base(workspace) + "/follow-ups").get_data(as_text=True)

    overdue, week = page.split("Due this week")
    assert "Late one" in overdue and "Soon one" not in overdue
    assert "Soon one" in week
    assert "Far one" not in page


def test_rescheduling_a_follow_up_saves_the_date(owner_client, workspace):
    opportunity = add_opportunity(workspace, next_follow_up=date(2026, 1, 5))

    response = owner_client.post(
        f"{base(workspace)}/{opportunity.id}/follow-up",
        data={
            "next_follow_up": "2026-01-12",
            "next_step": "Send case studies",
            "return_to": "follow_ups",
        },
    )

    db.session.expire_all()
    saved = db.session.get(Opportunity, opportunity.id)
    assert response.location.endswith("/pipeline/follow-ups")
    assert (saved.next_follow_up, saved.next_step) == (
        date(2026, 1, 12),
        "Send case studies",
    )


def test_owner_adds_and_archives_a_lost_reason(owner_client, workspace):
    owner_client.post(
        base(workspace) + "/lost-reasons",
        data={"label": "Went in-house", "is_other": "y"},
    )
    added = db.session.scalars(
        select(LostReason).where(LostReason.label == "Went in-house")
    ).one()

    owner_client.post(
        f"{base(workspace)}/lost-reasons/{added.id}/archive", data={"archived": "1"}
    )

    db.session.expire_all()
    assert (added.is_other, added.archived) == (True, True)


def test_a_duplicate_reason_shows_a_message(owner_client, workspace):
    response = owner_client.post(
        base(workspace) + "/lost-reasons", data={"label": "Price"}
    )

    assert response.status_code == 400
    assert "already in the list" in response.get_data(as_text=True)
    assert count(LostReason) == 5


def test_lost_report_page_shows_the_period_sums(owner_client, workspace):
    for value, label in ((4_000_00, "Price"), (1_500_00, "Timing")):
        opportunity = add_opportunity(workspace, Stage.PROPOSAL, value_minor=value)
        pipeline.move_stage(
            opportunity,
            Stage.LOST,
            actor_id=None,
            lost_reason_id=reason(workspace, label).id,
        )
    today = today_in(workspace)

    page = owner_client.get(
        base(workspace) + "/lost-report",
        query_string={"start": today.isoformat(), "end": today.isoformat()},
    ).get_data(as_text=True)

    assert "€5,500.00" in page
    assert "€4,000.00" in page and "€1,500.00" in page


def test_lost_report_with_a_backwards_period_says_so(owner_client, workspace):
    response = owner_client.get(
        base(workspace) + "/lost-report",
        query_string={"start": "2026-03-31", "end": "2026-03-01"},
    )

    assert response.status_code == 400
    assert "The period must end after it starts." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "preset",
    ["this_month", "last_month", "this_quarter", "this_year", "last_12_months"],
)
def test_lost_report_presets_render(owner_client, workspace, preset):
    response = owner_client.get(
        base(workspace) + "/lost-report", query_string={"preset": preset}
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "suffix", ["/", "/new", "/follow-ups", "/lost-reasons", "/lost-report"]
)
def test_pipeline_pages_render_for_the_owner(owner_client, workspace, suffix):
    add_opportunity(workspace, Stage.NEGOTIATION, next_follow_up=date(2026, 1, 1))

    response = owner_client.get(base(workspace) + suffix)

    assert response.status_code == 200


def test_opportunity_pages_render_for_the_owner(owner_client, workspace):
    opportunity = add_opportunity(
        workspace, Stage.PROPOSAL, proposal=ProposalUpload("p.pdf", pdf_bytes())
    )

    for suffix in ("", "/edit", "/won", "/lost"):
        response = owner_client.get(f"{base(workspace)}/{opportunity.id}{suffix}")
        assert response.status_code == 200, suffix


def test_a_body_over_the_platform_limit_returns_to_the_form(
    app, owner_client, workspace, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2_000)

    response = owner_client.post(
        base(workspace) + "/new",
        data=form_data(proposal_file=upload(b"%PDF-1.7" + b"x" * 3_000)),
        content_type="multipart/form-data",
    )
    page = owner_client.get(response.location).get_data(as_text=True)

    assert response.status_code == 302
    assert response.location.endswith("/pipeline/new")
    assert "larger than 10 MB" in page
    assert count(Opportunity) == 0
