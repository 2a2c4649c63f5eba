"""The pipeline's domain: sums, stages, closing, follow-ups and the lost report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from clientflow_plugin import pipeline
from clientflow_plugin.clock import today_in
from clientflow_plugin.models import (
    Client,
    ClientStatus,
    LostReason,
    Opportunity,
    Project,
    ProposalFile,
    Stage,
    StageChange,
)
from clientflow_plugin.pipeline import PipelineError, ProposalUpload
from host_stub.extensions import db
from tests.clientflow.pipeline_factories import (
    add_client,
    add_opportunity,
    bulk_opportunities,
    pdf_bytes,
    reason,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def changes_of(opportunity) -> list[tuple[str | None, str]]:
    return [
        (c.from_stage, c.to_stage)
        for c in db.session.scalars(
            select(StageChange)
            .where(StageChange.opportunity_id == opportunity.id)
            .order_by(StageChange.id)
        )
    ]


# -- sums ----------------------------------------------------------------------


def test_open_value_and_weighted_value_add_up_value_times_probability(workspace):
    add_opportunity(workspace, Stage.NEGOTIATION, value_minor=100_00, probability=99)
    add_opportunity(workspace, Stage.PROSPECT, value_minor=200_00, probability=0)

    totals = pipeline.open_totals(workspace.id)

    assert (totals.count, totals.total_minor, totals.weighted_minor) == (
        2,
        300_00,
        99_00,
    )


def test_column_totals_match_the_cards_of_each_stage(workspace):
    add_opportunity(workspace, Stage.PROSPECT, value_minor=1_000_00)
    add_opportunity(workspace, Stage.PROSPECT, value_minor=2_500_00, probability=20)
    add_opportunity(workspace, Stage.PROPOSAL, value_minor=12_000_00)
    add_opportunity(workspace, Stage.NEGOTIATION, value_minor=8_400_00)
    add_opportunity(workspace, Stage.WON, value_minor=5_000_00)
    add_opportunity(workspace, Stage.LOST, value_minor=3_000_00)

    board = pipeline.board(workspace.id)

    sums = {
        c.stage.value: (c.count, c.total_minor, c.weighted_minor) for c in board.columns
    }
    assert sums == {
        # 1,000 × 10 % + 2,500 × 20 % = 100 + 500
        "prospect": (2, 3_500_00, 600_00),
        "qualified": (0, 0, 0),
        "proposal": (1, 12_000_00, 6_000_00),
        "negotiation": (1, 8_400_00, 6_300_00),
        "won": (1, 5_000_00, 5_000_00),
        "lost": (1, 3_000_00, 0),
    }
    assert (board.open.count, board.open.total_minor, board.open.weighted_minor) == (
        4,
        23_900_00,
        12_900_00,
    )


def test_weighted_total_is_rounded_once_per_column_not_per_card(workspace):
    for _ in range(3):
        add_opportunity(workspace, Stage.PROPOSAL, value_minor=1, probability=50)

    column = pipeline.board(workspace.id).column(Stage.PROPOSAL)

    # 3 × 0.005 = 0.015 → 0.02; rounding each card first would give 0.03.
    assert column.weighted_minor == 2


def test_open_weighted_value_is_rounded_once_over_all_open_stages(workspace):
    add_opportunity(workspace, Stage.QUALIFIED, value_minor=1, probability=40)
    add_opportunity(workspace, Stage.PROPOSAL, value_minor=1, probability=40)

    board = pipeline.board(workspace.id)

    # Each column holds 0.004 → 0.00; together 0.008 → 0.01.
    assert [c.weighted_minor for c in board.columns[1:3]] == [0, 0]
    assert board.open.weighted_minor == 1


def test_board_shows_only_the_workspace_own_opportunities(workspace, make_workspace):
    other = make_workspace()
    add_opportunity(other, Stage.PROPOSAL, value_minor=9_999_00)
    add_opportunity(workspace, Stage.PROPOSAL, value_minor=100_00)

    column = pipeline.board(workspace.id).column(Stage.PROPOSAL)

    assert (column.count, column.total_minor) == (1, 100_00)


def test_board_keeps_won_and_lost_to_recent_closings(workspace):
    recent = datetime(2026, 5, 20, 12, tzinfo=UTC)
    old = datetime(2026, 2, 1, 12, tzinfo=UTC)
    for value, moment in ((1_000_00, recent), (50_000_00, old)):
        won = add_opportunity(workspace, Stage.NEGOTIATION, value_minor=value)
        pipeline.move_stage(won, Stage.WON, actor_id=None, at=moment)
    lost = add_opportunity(workspace, Stage.PROPOSAL, value_minor=7_000_00)
    pipeline.move_stage(
        lost,
        Stage.LOST,
        actor_id=None,
        lost_reason_id=reason(workspace, "Price").id,
        at=old,
    )
    add_opportunity(workspace, Stage.PROSPECT, value_minor=300_00)

    board = pipeline.board(workspace.id, closed_since=date(2026, 3, 1))

    won_column, lost_column = board.column("won"), board.column("lost")
    assert (won_column.count, won_column.total_minor) == (1, 1_000_00)
    assert [c.value_minor for c in won_column.cards] == [1_000_00]
    assert (lost_column.count, lost_column.cards) == (0, ())
    assert (board.open.count, board.open.total_minor) == (1, 300_00)


def test_board_runs_the_same_number_of_queries_for_5_and_200(
    workspace, make_workspace, query_counter
):
    small = make_workspace()
    bulk_opportunities(small, 5)
    bulk_opportunities(workspace, 200)
    small_id, large_id = small.id, workspace.id

    with query_counter() as few:
        pipeline.board(small_id)
    with query_counter() as many:
        board = pipeline.board(large_id)

    assert board.column(Stage.PROPOSAL).count == 200
    assert len(few) == len(many) == 2


# -- creating and editing ----------------------------------------------------


def test_probability_defaults_to_the_stage_of_a_new_opportunity(workspace):
    created = [
        add_opportunity(workspace, stage).probability
        for stage in (
            Stage.PROSPECT,
            Stage.QUALIFIED,
            Stage.PROPOSAL,
            Stage.NEGOTIATION,
        )
    ]

    assert created == [10, 25, 50, 75]


def test_creating_records_the_first_stage_in_the_history(workspace, owner):
    opportunity = pipeline.create_opportunity(
        workspace, actor_id=owner.id, prospect_name="Hotel Mirador", stage="qualified"
    )

    change = db.session.scalars(select(StageChange)).one()
    assert (change.opportunity_id, change.from_stage, change.to_stage) == (
        opportunity.id,
        None,
        "qualified",
    )
    assert change.user_id == owner.id


def test_opportunity_can_be_for_an_existing_client(workspace):
    client = add_client(workspace, company="Panadería La Espiga")

    opportunity = add_opportunity(
        workspace, client_id=client.id, prospect_name="", prospect_company=""
    )

    card = pipeline.board(workspace.id).column(Stage.PROSPECT).cards[0]
    assert opportunity.client_id == client.id
    assert (card.prospect, card.company, card.is_free_prospect) == (
        "Lucía Fernández",
        "Panadería La Espiga",
        False,
    )


def test_update_changes_only_the_fields_given(workspace):
    opportunity = add_opportunity(workspace, value_minor=500_00, next_step="Call")

    pipeline.update_opportunity(opportunity, actor_id=None, probability=35)

    db.session.expire_all()
    assert (opportunity.probability, opportunity.value_minor) == (35, 500_00)
    assert opportunity.next_step == "Call"


def test_a_proposal_link_without_date_is_dated_today(workspace):
    opportunity = add_opportunity(
        workspace, proposal_url="https://docs.example/proposal"
    )

    assert opportunity.proposal_sent_on == today_in(workspace)


BAD_INPUT = [
    ({"probability": 101}, "probability", "between 0 and 100"),
    ({"probability": -1}, "probability", "between 0 and 100"),
    ({"value_minor": -1}, "value_minor", "cannot be negative"),
    ({"value_minor": 10**13 + 1}, "value_minor", "too large"),
    ({"stage": "closed"}, "stage", "Choose one of the pipeline's stages"),
    ({"stage": "won"}, "stage", "start in an open stage"),
    (
        {"prospect_name": " ", "prospect_company": ""},
        "prospect_name",
        "Choose a client or type",
    ),
    ({"proposal_url": "javascript:alert(1)"}, "proposal_url", "web address"),
    ({"title": "x" * 201}, "title", "At most 200"),
]


@pytest.mark.parametrize(("fields", "key", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_a_message_and_nothing_is_created(
    workspace, fields, key, message
):
    values = {"prospect_name": "Marta Gil", **fields}

    with pytest.raises(PipelineError) as refused:
        pipeline.create_opportunity(workspace, actor_id=None, **values)

    assert message in refused.value.errors[key]
    assert (count(Opportunity), count(StageChange)) == (0, 0)


@pytest.mark.parametrize(("fields", "key", "message"), BAD_INPUT[:4])
def test_bad_edit_is_refused_and_the_opportunity_is_unchanged(
    workspace, fields, key, message
):
    opportunity = add_opportunity(workspace, value_minor=700_00)

    with pytest.raises(PipelineError) as refused:
        pipeline.update_opportunity(opportunity, actor_id=None, **fields)

    db.session.expire_all()
    assert message in refused.value.errors[key]
    assert (opportunity.value_minor, opportunity.probability) == (700_00, 10)


def test_client_of_another_workspace_is_refused(workspace, make_workspace):
    stranger = add_client(make_workspace(), name="Someone Else")

    with pytest.raises(PipelineError) as refused:
        pipeline.create_opportunity(workspace, actor_id=None, client_id=stranger.id)

    assert refused.value.errors == {"client_id": "Choose a client of this workspace."}
    assert count(Opportunity) == 0


# -- proposals -----------------------------------------------------------------


def test_a_real_pdf_is_stored_in_the_database_with_its_name(workspace):
    content = pdf_bytes()

    opportunity = add_opportunity(
        workspace, proposal=ProposalUpload("../../Propuesta 2026.pdf", content)
    )

    stored = db.session.get(ProposalFile, opportunity.proposal_file_id)
    assert (stored.filename, stored.size, stored.content) == (
        "Propuesta 2026.pdf",
        len(content),
        content,
    )
    assert stored.workspace_id == workspace.id
    assert opportunity.proposal_sent_on == today_in(workspace)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Hello, this is plain text named proposal.pdf", "not a PDF"),
        (b"%PDF-1.7\njust a header and nothing that parses", "not a PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not a PDF"),
        (b"", "empty"),
    ],
)
def test_a_file_that_is_not_a_pdf_is_refused_by_its_content(
    workspace, content, message
):
    with pytest.raises(PipelineError) as refused:
        add_opportunity(workspace, proposal=ProposalUpload("proposal.pdf", content))

    assert message in refused.value.errors["proposal"]
    assert (count(Opportunity), count(ProposalFile)) == (0, 0)


def test_a_pdf_over_10_mb_is_refused(workspace):
    pdf = pdf_bytes()
    padding = b"%" + b"x" * (pipeline.MAX_PROPOSAL_BYTES - len(pdf) - 1) + b"\n"
    content = pdf[:9] + padding + pdf[9:]

    with pytest.raises(PipelineError) as refused:
        add_opportunity(workspace, proposal=ProposalUpload("big.pdf", content))

    assert len(content) == pipeline.MAX_PROPOSAL_BYTES + 1
    assert refused.value.errors == {
        "proposal": "The proposal file is larger than 10 MB."
    }
    assert count(ProposalFile) == 0


def test_a_pdf_of_exactly_10_mb_is_accepted(workspace):
    pdf = pdf_bytes()
    padding = b"%" + b"x" * (pipeline.MAX_PROPOSAL_BYTES - len(pdf) - 2) + b"\n"
    content = pdf[:9] + padding + pdf[9:]

    pipeline.check_pdf(ProposalUpload("big.pdf", content))

    assert len(content) == pipeline.MAX_PROPOSAL_BYTES


def test_replacing_the_proposal_file_deletes_the_old_one(workspace):
    opportunity = add_opportunity(
        workspace, proposal=ProposalUpload("v1.pdf", pdf_bytes())
    )

    pipeline.update_opportunity(
        opportunity, actor_id=None, proposal=ProposalUpload("v2.pdf", pdf_bytes())
    )

    names = db.session.scalars(select(ProposalFile.filename)).all()
    assert names == ["v2.pdf"]


# -- moving ------------------------------------------------------------------


def test_moving_records_the_change_with_who_and_when(workspace, owner):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL)
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    pipeline.move_stage(opportunity, "negotiation", actor_id=owner.id, at=moment)

    change = db.session.scalars(
        select(StageChange).order_by(StageChange.id.desc())
    ).first()
    assert (change.from_stage, change.to_stage, change.user_id) == (
        "proposal",
        "negotiation",
        owner.id,
    )
    assert change.at == moment
    assert opportunity.stage == "negotiation"


def test_probability_follows_the_stage_while_it_is_the_default(workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL)

    pipeline.move_stage(opportunity, Stage.NEGOTIATION, actor_id=None)

    assert opportunity.probability == 75


def test_probability_set_by_the_owner_survives_a_move(workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL, probability=60)

    pipeline.move_stage(opportunity, Stage.NEGOTIATION, actor_id=None)

    assert opportunity.probability == 60


def test_moving_to_an_unknown_stage_changes_nothing(workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL)

    with pytest.raises(PipelineError) as refused:
        pipeline.move_stage(opportunity, "archived", actor_id=None)

    db.session.expire_all()
    assert refused.value.errors == {"stage": "Choose one of the pipeline's stages."}
    assert opportunity.stage == "proposal"
    assert changes_of(opportunity) == [(None, "proposal")]


def test_moving_within_a_column_reorders_without_history(workspace):
    first, second, third = (
        add_opportunity(workspace, Stage.QUALIFIED, title=t) for t in "ABC"
    )

    pipeline.move_stage(third, Stage.QUALIFIED, actor_id=None, position=0)

    titles = [c.title for c in pipeline.board(workspace.id).column("qualified").cards]
    assert titles == ["C", "A", "B"]
    assert changes_of(third) == [(None, "qualified")]


def test_a_card_dropped_into_a_column_lands_at_its_position(workspace):
    add_opportunity(workspace, Stage.NEGOTIATION, title="N1")
    add_opportunity(workspace, Stage.NEGOTIATION, title="N2")
    moving = add_opportunity(workspace, Stage.PROPOSAL, title="P")

    pipeline.move_stage(moving, Stage.NEGOTIATION, actor_id=None, position=1)

    titles = [c.title for c in pipeline.board(workspace.id).column("negotiation").cards]
    assert titles == ["N1", "P", "N2"]


def test_a_card_moved_without_position_goes_last(workspace):
    add_opportunity(workspace, Stage.NEGOTIATION, title="N1")
    moving = add_opportunity(workspace, Stage.PROPOSAL, title="P")

    pipeline.move_stage(moving, Stage.NEGOTIATION, actor_id=None)

    titles = [c.title for c in pipeline.board(workspace.id).column("negotiation").cards]
    assert titles == ["N1", "P"]


# -- closing -------------------------------------------------------------------


def test_lost_without_a_reason_is_refused_and_nothing_changes(workspace):
    opportunity = add_opportunity(workspace, Stage.NEGOTIATION)

    with pytest.raises(PipelineError) as refused:
        pipeline.move_stage(opportunity, Stage.LOST, actor_id=None)

    db.session.expire_all()
    assert refused.value.errors == {
        "lost_reason_id": "Choose why the opportunity was lost."
    }
    assert (opportunity.stage, opportunity.closed_on) == ("negotiation", None)
    assert changes_of(opportunity) == [(None, "negotiation")]


def test_other_as_lost_reason_needs_a_note(workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL)

    with pytest.raises(PipelineError) as refused:
        pipeline.move_stage(
            opportunity,
            Stage.LOST,
            actor_id=None,
            lost_reason_id=reason(workspace, "Other").id,
            lost_note="  ",
        )

    assert refused.value.errors == {"lost_note": "Say in a few words why it was lost."}
    assert opportunity.stage == "proposal"


def test_lost_reason_of_another_workspace_is_refused(workspace, make_workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL)
    foreign = reason(make_workspace(), "Price")

    with pytest.raises(PipelineError):
        pipeline.move_stage(
            opportunity, Stage.LOST, actor_id=None, lost_reason_id=foreign.id
        )

    db.session.expire_all()
    assert opportunity.stage == "proposal"


def test_an_archived_lost_reason_is_no_longer_offered(workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL)
    timing = reason(workspace, "Timing")
    pipeline.set_lost_reason_archived(timing, True)

    with pytest.raises(PipelineError):
        pipeline.move_stage(
            opportunity, Stage.LOST, actor_id=None, lost_reason_id=timing.id
        )

    assert "Timing" not in [r.label for r in pipeline.lost_reasons(workspace.id)]


def test_lost_keeps_reason_note_and_closing_date(workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL)
    other = reason(workspace, "Other")
    moment = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)  # 06:00 in Madrid

    pipeline.move_stage(
        opportunity,
        Stage.LOST,
        actor_id=None,
        lost_reason_id=other.id,
        lost_note="Went in-house",
        at=moment,
    )

    assert (opportunity.lost_reason_id, opportunity.lost_note) == (
        other.id,
        "Went in-house",
    )
    assert (opportunity.probability, opportunity.closed_on) == (0, date(2026, 4, 1))


def test_closing_date_is_the_workspace_local_date(make_workspace):
    mexico = make_workspace(timezone="America/Mexico_City")
    opportunity = add_opportunity(mexico, Stage.NEGOTIATION)
    late_evening = datetime(2026, 4, 1, 5, 30, tzinfo=UTC)  # 23:30 on 31 March

    pipeline.move_stage(opportunity, Stage.WON, actor_id=None, at=late_evening)

    assert opportunity.closed_on == date(2026, 3, 31)


def test_winning_turns_a_free_name_prospect_into_a_client_with_a_project(
    workspace,
):
    opportunity = add_opportunity(
        workspace,
        Stage.NEGOTIATION,
        prospect_name="Iker Zubiri",
        prospect_company="Zubiri Sidrería",
        title="Online shop",
    )

    pipeline.move_stage(
        opportunity,
        Stage.WON,
        actor_id=None,
        create_client=True,
        project_name="Shop launch",
    )

    client = db.session.scalars(select(Client)).one()
    project = db.session.scalars(select(Project)).one()
    assert (client.name, client.company, client.status) == (
        "Iker Zubiri",
        "Zubiri Sidrería",
        ClientStatus.ACTIVE,
    )
    assert (client.workspace_id, opportunity.client_id) == (workspace.id, client.id)
    assert (project.client_id, project.name, project.status) == (
        client.id,
        "Shop launch",
        "active",
    )
    assert (opportunity.stage, opportunity.probability) == ("won", 100)


def test_winning_without_conversion_adds_no_client(workspace):
    opportunity = add_opportunity(workspace, Stage.NEGOTIATION)

    pipeline.move_stage(opportunity, Stage.WON, actor_id=None)

    assert (count(Client), count(Project)) == (0, 0)
    assert opportunity.client_id is None


def test_winning_activates_a_client_still_in_prospect_status(workspace):
    client = add_client(workspace, status=ClientStatus.PROSPECT)
    opportunity = add_opportunity(workspace, Stage.PROPOSAL, client_id=client.id)

    pipeline.move_stage(
        opportunity, Stage.WON, actor_id=None, create_client=True, project_name=""
    )

    assert client.status == ClientStatus.ACTIVE
    assert db.session.scalars(select(Project.name)).all() == ["Gil Interiores"]
    assert count(Client) == 1


def test_reopening_a_lost_opportunity_is_recorded_and_clears_the_loss(workspace):
    opportunity = add_opportunity(workspace, Stage.LOST, lost_note="")

    pipeline.move_stage(opportunity, Stage.QUALIFIED, actor_id=None)

    assert changes_of(opportunity) == [
        (None, "prospect"),
        ("prospect", "lost"),
        ("lost", "qualified"),
    ]
    assert (opportunity.lost_reason_id, opportunity.closed_on) == (None, None)
    assert opportunity.probability == 25
    assert pipeline.stage_history(opportunity.id)[-1].is_reopen


# -- lost reasons ----------------------------------------------------------------


def test_owner_adds_a_lost_reason_that_asks_for_a_note(workspace):
    added = pipeline.add_lost_reason(workspace.id, " Went in-house ", is_other=True)

    assert (added.label, added.is_other) == ("Went in-house", True)
    assert "Went in-house" in [r.label for r in pipeline.lost_reasons(workspace.id)]


def test_a_duplicate_lost_reason_is_refused(workspace):
    with pytest.raises(PipelineError) as refused:
        pipeline.add_lost_reason(workspace.id, "price")

    assert refused.value.errors == {"label": "This reason is already in the list."}
    assert count(LostReason) == 5


def test_the_last_active_lost_reason_cannot_be_archived(workspace):
    reasons = pipeline.lost_reasons(workspace.id)
    for item in reasons[:-1]:
        pipeline.set_lost_reason_archived(item, True)

    with pytest.raises(PipelineError):
        pipeline.set_lost_reason_archived(reasons[-1], True)

    assert len(pipeline.lost_reasons(workspace.id)) == 1


# -- follow-ups ----------------------------------------------------------------


def test_follow_ups_split_overdue_and_the_coming_seven_days(workspace):
    today = date(2026, 5, 15)
    add_opportunity(
        workspace, Stage.PROPOSAL, title="late", next_follow_up=date(2026, 5, 14)
    )
    add_opportunity(workspace, Stage.QUALIFIED, title="today", next_follow_up=today)
    add_opportunity(
        workspace, Stage.PROSPECT, title="week", next_follow_up=date(2026, 5, 21)
    )
    add_opportunity(
        workspace, Stage.PROSPECT, title="later", next_follow_up=date(2026, 5, 22)
    )
    add_opportunity(
        workspace, Stage.WON, title="closed", next_follow_up=date(2026, 5, 1)
    )
    add_opportunity(workspace, Stage.PROSPECT, title="none")

    data = pipeline.follow_ups(workspace, today)

    assert [c.title for c in data.overdue] == ["late"]
    assert [c.title for c in data.this_week] == ["today", "week"]
    assert data.week_end == date(2026, 5, 22)


def test_follow_ups_default_to_the_workspace_local_today(make_workspace):
    tokyo = make_workspace(timezone="Asia/Tokyo")
    local_today = today_in(tokyo)
    add_opportunity(tokyo, title="yesterday", next_follow_up=local_today - timedelta(1))

    data = pipeline.follow_ups(tokyo)

    assert data.today == local_today
    assert [c.title for c in data.overdue] == ["yesterday"]


# -- lost report -----------------------------------------------------------------


def lose(opportunity, workspace, label, day, note=""):
    pipeline.move_stage(
        opportunity,
        Stage.LOST,
        actor_id=None,
        lost_reason_id=reason(workspace, label).id,
        lost_note=note,
        at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
    )


def test_lost_report_sums_per_reason_and_per_stage_reached(workspace):
    march = date(2026, 3, 10)
    lose(
        add_opportunity(workspace, Stage.PROPOSAL, value_minor=4_000_00),
        workspace,
        "Price",
        march,
    )
    lose(
        add_opportunity(workspace, Stage.NEGOTIATION, value_minor=6_000_00),
        workspace,
        "Price",
        march,
    )
    lose(
        add_opportunity(workspace, Stage.PROPOSAL, value_minor=1_500_00),
        workspace,
        "Timing",
        march,
    )
    lose(
        add_opportunity(workspace, Stage.QUALIFIED, value_minor=700_00),
        workspace,
        "Other",
        march,
        "Moved abroad",
    )

    report = pipeline.lost_report(workspace.id, date(2026, 3, 1), date(2026, 4, 1))

    assert (report.count, report.value_minor) == (4, 12_200_00)
    assert [(r.label, r.count, r.value_minor) for r in report.by_reason] == [
        ("Price", 2, 10_000_00),
        ("Timing", 1, 1_500_00),
        ("Other", 1, 700_00),
    ]
    assert [(r.key, r.count, r.value_minor) for r in report.by_stage] == [
        ("prospect", 0, 0),
        ("qualified", 1, 700_00),
        ("proposal", 2, 5_500_00),
        ("negotiation", 1, 6_000_00),
    ]


def test_lost_report_period_is_half_open(workspace):
    lose(
        add_opportunity(workspace, value_minor=100_00),
        workspace,
        "Price",
        date(2026, 2, 28),
    )
    lose(
        add_opportunity(workspace, value_minor=200_00),
        workspace,
        "Price",
        date(2026, 3, 1),
    )
    lose(
        add_opportunity(workspace, value_minor=400_00),
        workspace,
        "Price",
        date(2026, 3, 31),
    )
    lose(
        add_opportunity(workspace, value_minor=800_00),
        workspace,
        "Price",
        date(2026, 4, 1),
    )

    report = pipeline.lost_report(workspace.id, date(2026, 3, 1), date(2026, 4, 1))

    assert (report.count, report.value_minor) == (2, 600_00)


def test_stage_reached_is_the_last_open_stage_after_a_reopen(workspace):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL, value_minor=900_00)
    lose(opportunity, workspace, "Price", date(2026, 3, 2))
    pipeline.move_stage(opportunity, Stage.NEGOTIATION, actor_id=None)
    lose(opportunity, workspace, "Timing", date(2026, 3, 20))

    report = pipeline.lost_report(workspace.id, date(2026, 3, 1), date(2026, 4, 1))

    assert [(r.label, r.count) for r in report.by_reason] == [("Timing", 1)]
    assert [(r.key, r.count) for r in report.by_stage if r.count] == [
        ("negotiation", 1)
    ]


def test_lost_report_needs_a_period_that_ends_after_it_starts(workspace):
    with pytest.raises(PipelineError):
        pipeline.lost_report(workspace.id, date(2026, 3, 1), date(2026, 3, 1))


def test_lost_report_counts_only_the_workspace_own_losses(workspace, make_workspace):
    other = make_workspace()
    lose(add_opportunity(other, value_minor=100_00), other, "Price", date(2026, 3, 5))

    report = pipeline.lost_report(workspace.id, date(2026, 3, 1), date(2026, 4, 1))

    assert (report.count, report.value_minor) == (0, 0)
