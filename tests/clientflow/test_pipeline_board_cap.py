"""The board's columns show their first cards only, with the sums of all."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from clientflow_plugin import pipeline
from clientflow_plugin.clock import today_in
from clientflow_plugin.models import Opportunity, Stage
from clientflow_plugin.money import round_minor
from clientflow_plugin.pipeline import BOARD_CARDS, BOARD_MAX_CARDS
from host_stub.extensions import db
from tests.clientflow.pipeline_factories import add_opportunity

CAP = BOARD_CARDS


def fill_board(workspace, size: int, today: date, **fields) -> None:
    """``size`` opportunities over every column, most of them in Proposal."""
    for stage in pipeline.STAGES:
        closed_on = today if stage in pipeline.CLOSED_STAGES else None
        count = size // 10 if stage != Stage.PROPOSAL else size - 5 * (size // 10)
        add_many(workspace, count, stage, closed_on=closed_on, **fields)


def add_many(
    workspace, count: int, stage=Stage.PROPOSAL, *, closed_on=None, **fields
) -> list[int]:
    """``count`` rows of one column, whose board order is the reverse of their
    ids; returns the ids in board order."""
    rows = [
        Opportunity(
            workspace_id=workspace.id,
            prospect_name=f"Prospect {n}",
            stage=stage,
            position=count - 1 - n,
            value_minor=100_00 * (n + 1) + n % 7,
            probability=(n * 13) % 101,
            closed_on=closed_on,
            **fields,
        )
        for n in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in reversed(rows)]


def positions(workspace, stage) -> list[tuple[int, int]]:
    """(id, position) of a whole column in board order."""
    db.session.expire_all()
    return [
        (row.id, row.position)
        for row in db.session.execute(
            select(Opportunity.id, Opportunity.position)
            .where(Opportunity.workspace_id == workspace.id, Opportunity.stage == stage)
            .order_by(Opportunity.position, Opportunity.id)
        )
    ]


def base(workspace) -> str:
    return f"/w/{workspace.slug}/clientflow/pipeline"


def column_html(page: str, stage: str) -> str:
    return page.split(f'data-column="{stage}"')[1].split("</section>")[0]


def card_ids(html: str) -> list[int]:
    return [
        int(n) for n in re.findall(r'class="cf-opp[^"]*"[^>]*data-id="(\d+)"', html)
    ]


# -- the domain --------------------------------------------------------------


def test_a_long_column_holds_its_first_cards_in_board_order(workspace):
    ids = add_many(workspace, CAP + 12)

    column = pipeline.board(workspace.id).column(Stage.PROPOSAL)

    assert [card.id for card in column.cards] == ids[:CAP]
    assert (column.count, column.hidden, column.limit) == (CAP + 12, 12, CAP)
    assert column.next_limit == CAP + BOARD_CARDS


def test_a_long_column_sums_all_of_its_opportunities(workspace):
    add_many(workspace, CAP + 12)
    rows = db.session.scalars(select(Opportunity)).all()
    exact = sum(row.value_minor * row.probability for row in rows)

    column = pipeline.board(workspace.id).column(Stage.PROPOSAL)

    assert column.total_minor == sum(row.value_minor for row in rows)
    assert column.weighted_minor == round_minor(Decimal(exact) / 100)


def test_a_column_shows_more_cards_when_asked(workspace):
    ids = add_many(workspace, CAP + 12)
    add_many(workspace, CAP + 5, Stage.QUALIFIED)

    board = pipeline.board(workspace.id, limits={Stage.PROPOSAL: CAP + BOARD_CARDS})

    proposal, qualified = board.column("proposal"), board.column("qualified")
    assert [card.id for card in proposal.cards] == ids
    assert (proposal.hidden, proposal.next_limit) == (0, None)
    assert len(qualified.cards) == CAP


@pytest.mark.parametrize(
    ("asked", "limit"),
    [
        (None, CAP),
        (-5, CAP),
        (0, CAP),
        (CAP - 1, CAP),
        (CAP + 7, CAP + 7),
        (BOARD_MAX_CARDS, BOARD_MAX_CARDS),
        (10**30, BOARD_MAX_CARDS),
        (True, CAP),
        ("80", CAP),
    ],
)
def test_a_column_limit_is_clamped(asked, limit):
    assert pipeline.card_limit(asked) == limit


def test_a_column_at_the_maximum_offers_no_more(workspace):
    add_many(workspace, BOARD_MAX_CARDS + 3)

    column = pipeline.board(workspace.id, limits={Stage.PROPOSAL: 10**9}).column(
        Stage.PROPOSAL
    )

    assert (len(column.cards), column.hidden) == (BOARD_MAX_CARDS, 3)
    assert column.next_limit is None


def test_won_and_lost_keep_to_recent_closings_and_the_cap(workspace):
    today = date(2026, 6, 1)
    recent = add_many(workspace, CAP + 4, Stage.WON, closed_on=today)
    add_many(workspace, 30, Stage.WON, closed_on=today - timedelta(days=200))
    add_many(workspace, 3, Stage.LOST, closed_on=today)

    board = pipeline.board(workspace.id, closed_since=today - timedelta(days=90))

    won = board.column(Stage.WON)
    assert [card.id for card in won.cards] == recent[:CAP]
    assert (won.count, won.hidden) == (CAP + 4, 4)
    assert (len(board.column("lost").cards), board.column("lost").hidden) == (3, 0)


def test_overdue_follow_ups_count_the_cards_not_shown(workspace):
    today = date(2026, 6, 1)
    add_many(workspace, CAP + 10, next_follow_up=today - timedelta(days=1))
    add_many(workspace, 4, Stage.QUALIFIED, next_follow_up=today)
    add_many(workspace, 2, Stage.LOST, closed_on=today, next_follow_up=date(2026, 1, 1))

    board = pipeline.board(workspace.id, today=today)

    assert board.overdue == CAP + 10


def test_the_board_runs_two_queries_for_10_or_300_opportunities(
    workspace, make_workspace, query_counter
):
    small = make_workspace()
    today = date(2026, 6, 1)
    fill_board(small, 10, today)
    fill_board(workspace, 300, today)
    since = today - timedelta(days=90)
    small_id, large_id = small.id, workspace.id

    with query_counter() as few:
        pipeline.board(small_id, closed_since=since, today=today)
    with query_counter() as many:
        board = pipeline.board(
            large_id,
            closed_since=since,
            today=today,
            limits={Stage.PROPOSAL: BOARD_MAX_CARDS},
        )

    assert len(few) == len(many) == 2
    assert [len(c.cards) for c in board.columns] == [30, 30, 150, 30, 30, 30]


# -- moving among cards that are not shown -------------------------------------


def test_moving_a_shown_card_keeps_the_hidden_ones_in_order(workspace):
    ids = add_many(workspace, CAP + 20)

    pipeline.move_stage(
        db.session.get(Opportunity, ids[CAP - 1]),
        Stage.PROPOSAL,
        actor_id=None,
        position=0,
    )

    expected = [ids[CAP - 1], *ids[: CAP - 1], *ids[CAP:]]
    assert positions(workspace, Stage.PROPOSAL) == [
        (opp_id, n) for n, opp_id in enumerate(expected)
    ]


def test_a_card_dropped_below_the_shown_ones_lands_before_the_hidden_ones(workspace):
    ids = add_many(workspace, CAP + 20)
    moving = add_opportunity(workspace, Stage.NEGOTIATION)

    pipeline.move_stage(moving, Stage.PROPOSAL, actor_id=None, position=CAP)

    expected = [*ids[:CAP], moving.id, *ids[CAP:]]
    assert positions(workspace, Stage.PROPOSAL) == [
        (opp_id, n) for n, opp_id in enumerate(expected)
    ]
    column = pipeline.board(workspace.id).column(Stage.PROPOSAL)
    assert [card.id for card in column.cards] == ids[:CAP]
    assert column.count == CAP + 21


def test_a_drop_on_won_lands_among_the_closings_the_board_shows(workspace):
    today = today_in(workspace)
    since = today - timedelta(days=pipeline.BOARD_CLOSED_DAYS)
    old = add_many(workspace, 3, Stage.WON, closed_on=today - timedelta(days=200))
    recent = add_many(workspace, 3, Stage.WON, closed_on=today)
    # Older closings first, then the recent ones: the board shows these.
    order = [*old, *recent]
    for n, opp_id in enumerate(order):
        db.session.get(Opportunity, opp_id).position = n
    db.session.commit()
    moving = add_opportunity(workspace, Stage.NEGOTIATION)

    pipeline.move_stage(
        moving, Stage.WON, actor_id=None, position=1, closed_since=since
    )

    shown = pipeline.board(workspace.id, closed_since=since).column(Stage.WON)
    assert [card.id for card in shown.cards] == [recent[0], moving.id, *recent[1:]]
    assert [opp_id for opp_id, _n in positions(workspace, Stage.WON)] == [
        *old,
        recent[0],
        moving.id,
        *recent[1:],
    ]


# -- the page ----------------------------------------------------------------


def test_a_long_column_shows_the_cap_with_the_sums_of_all(owner_client, workspace):
    ids = add_many(workspace, CAP + 12)
    column = pipeline.board(workspace.id).column(Stage.PROPOSAL)

    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)

    html = column_html(page, "proposal")
    assert card_ids(html) == ids[:CAP]
    assert f'<span class="cf-col-count" data-count>{CAP + 12}</span>' in html
    total = f"€{column.total_minor / 100:,.2f}"
    weighted = f"€{column.weighted_minor / 100:,.2f}"
    assert f"<dd data-total>{total}</dd>" in html
    assert f"<dd data-weighted>{weighted}</dd>" in html
    assert (
        f"Showing <span data-shown>{CAP}</span> of <span data-of>{CAP + 12}</span>"
        in html
    )
    assert "Show 12 more" in html


def test_show_more_opens_the_column_further(owner_client, workspace):
    ids = add_many(workspace, CAP + 12)
    add_many(workspace, CAP + 1, Stage.QUALIFIED)
    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)
    link = re.search(
        r'class="cf-col-more-link" href="([^"]+)"', column_html(page, "proposal")
    )[1]

    opened = owner_client.get(link.replace("&amp;", "&"))

    html = opened.get_data(as_text=True)
    assert opened.status_code == 200
    assert link.endswith(f"?proposal={CAP + BOARD_CARDS}#proposal-{CAP + 1}")
    assert card_ids(column_html(html, "proposal")) == ids
    assert 'id="proposal-51"' in html
    assert "data-more" not in column_html(html, "proposal")
    # The other column stays as it was, and its own link keeps this one open.
    qualified = column_html(html, "qualified")
    assert len(card_ids(qualified)) == CAP
    assert f"proposal={CAP + BOARD_CARDS}" in qualified
    assert "qualified=" + str(CAP + BOARD_CARDS) in qualified


def test_the_column_foot_speaks_the_reader_language(app, make_user, login, workspace):
    spanish = login(
        app.test_client(), make_user("agency_owner", workspace, language="es")
    )
    add_many(workspace, 1_200)

    page = spanish.get(base(workspace) + "/").get_data(as_text=True)

    html = column_html(page, "proposal")
    foot = "Se muestran <span data-shown>50</span> de <span data-of>1.200</span>"
    assert foot in html
    assert "Mostrar 50 más" in html


def test_a_short_column_has_no_show_more(owner_client, workspace):
    add_many(workspace, 3)

    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)

    assert "data-more" not in page
    assert "cf-col-more-link" not in page


def test_a_column_at_the_maximum_says_so_instead_of_offering_more(
    owner_client, workspace
):
    add_many(workspace, BOARD_MAX_CARDS + 2)

    page = owner_client.get(
        base(workspace) + f"/?proposal={BOARD_MAX_CARDS * 10}"
    ).get_data(as_text=True)

    html = column_html(page, "proposal")
    assert len(card_ids(html)) == BOARD_MAX_CARDS
    assert "cf-col-more-link" not in html
    assert f"Each column shows at most {BOARD_MAX_CARDS} cards." in html


@pytest.mark.parametrize(
    "query",
    [
        "proposal=-1",
        "proposal=0",
        "proposal=abc",
        "proposal=",
        "proposal=1e9",
        "proposal=12.5",
        "proposal=" + "9" * 40,
        "proposal=" + "9" * 5000,
        "proposal=%00",
        "proposal=100&proposal=-3",
        "more=proposal",
        "more=nowhere",
        "nowhere=100",
        "won=-2147483649&lost=2147483648",
    ],
)
def test_bad_card_limits_never_break_the_board(owner_client, workspace, query):
    add_many(workspace, CAP + 2)

    response = owner_client.get(base(workspace) + "/?" + query)

    assert response.status_code == 200
    html = column_html(response.get_data(as_text=True), "proposal")
    assert CAP <= len(card_ids(html)) <= CAP + 2


def test_the_board_page_runs_as_many_queries_for_10_as_for_300(
    app, make_workspace, make_user, login, query_counter
):
    counts = []
    for size in (10, 300):
        workspace = make_workspace()
        client = login(app.test_client(), make_user("agency_owner", workspace))
        today = today_in(workspace)
        fill_board(workspace, size, today, next_follow_up=today)

        with query_counter() as statements:
            response = client.get(base(workspace) + "/?proposal=100")
        assert response.status_code == 200
        counts.append(len(statements))

    assert counts[0] == counts[1]


def test_the_overdue_card_counts_follow_ups_beyond_the_cap(owner_client, workspace):
    yesterday = today_in(workspace) - timedelta(days=1)
    add_many(workspace, CAP + 9, next_follow_up=yesterday)

    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)

    overdue = page.split("Overdue follow-ups")[1].split("</a>")[0]
    assert f'<span class="value">{CAP + 9}</span>' in overdue


def test_dragging_into_a_long_column_keeps_its_positions(owner_client, workspace):
    ids = add_many(workspace, CAP + 20)
    moving = add_opportunity(workspace, Stage.NEGOTIATION, value_minor=1_000_00)

    response = owner_client.post(
        f"{base(workspace)}/{moving.id}/move",
        data={"stage": "proposal", "position": "3"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 200
    columns = {c["stage"]: c for c in response.get_json()["columns"]}
    assert columns["proposal"]["count"] == CAP + 21
    expected = [*ids[:3], moving.id, *ids[3:]]
    assert positions(workspace, Stage.PROPOSAL) == [
        (opp_id, n) for n, opp_id in enumerate(expected)
    ]


def test_the_move_form_moves_a_card_of_a_long_column(owner_client, workspace):
    ids = add_many(workspace, CAP + 5)

    response = owner_client.post(
        f"{base(workspace)}/{ids[10]}/move",
        data={"stage": "negotiation", "return_to": "board"},
    )

    assert response.status_code == 302
    remaining = [opp_id for opp_id, _n in positions(workspace, Stage.PROPOSAL)]
    assert remaining == [opp_id for opp_id in ids if opp_id != ids[10]]
    page = owner_client.get(base(workspace) + "/").get_data(as_text=True)
    assert ids[10] in card_ids(column_html(page, "negotiation"))
    assert card_ids(column_html(page, "proposal")) == remaining[:CAP]
