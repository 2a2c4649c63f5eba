"""The pipeline board in a real browser: dragging, the form without JS, phones."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from clientflow_plugin.demo_data.pipeline import seed
from clientflow_plugin.models import Opportunity, Stage, StageChange
from clientflow_plugin.pipeline import BOARD_CARDS
from host_stub.extensions import db
from tests.clientflow.pipeline_factories import add_client, add_opportunity
from tests.conftest import save_screenshot


@pytest.fixture
def csrf_on(app, monkeypatch):
    """Check CSRF tokens as production does, so the script must send one."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def board_url(live_server_url, workspace) -> str:
    return f"{live_server_url}/w/{workspace.slug}/clientflow/pipeline/"


def card(page, stage: str, opportunity_id: int):
    return page.locator(
        f'[data-stage-list][data-stage="{stage}"] .cf-opp[data-id="{opportunity_id}"]'
    )


def test_dragging_a_card_to_negotiation_keeps_it_there_after_reload(
    page, browser_login, owner, workspace, live_server_url, csrf_on
):
    dragged = add_opportunity(
        workspace, Stage.PROPOSAL, title="Online shop", value_minor=8_000_00
    )
    add_opportunity(workspace, Stage.NEGOTIATION, title="Brand refresh")
    browser_login(page, owner)
    page.goto(board_url(live_server_url, workspace))
    target = page.locator('[data-stage-list][data-stage="negotiation"]')

    with page.expect_response(lambda r: r.url.endswith("/move")) as moved:
        card(page, "proposal", dragged.id).drag_to(target)
    page.wait_for_selector("#board-status:not(:empty)")
    negotiation = page.locator('[data-column="negotiation"]')

    assert moved.value.status == 200
    assert negotiation.locator("[data-count]").inner_text() == "2"
    page.reload()
    assert card(page, "negotiation", dragged.id).count() == 1
    assert card(page, "proposal", dragged.id).count() == 0
    db.session.expire_all()
    change = db.session.scalars(
        select(StageChange)
        .where(StageChange.opportunity_id == dragged.id)
        .order_by(StageChange.id.desc())
    ).first()
    assert (change.from_stage, change.to_stage, change.user_id) == (
        "proposal",
        "negotiation",
        owner.id,
    )


def test_dropping_a_card_on_lost_opens_the_reason_form(
    page, browser_login, owner, workspace, live_server_url, csrf_on
):
    dragged = add_opportunity(workspace, Stage.NEGOTIATION, title="Yoga app")
    browser_login(page, owner)
    page.goto(board_url(live_server_url, workspace))
    lost = page.locator('[data-stage-list][data-stage="lost"]')
    lost.scroll_into_view_if_needed()

    card(page, "negotiation", dragged.id).drag_to(lost)
    page.wait_for_url(f"**/pipeline/{dragged.id}/lost")

    assert page.locator("legend").inner_text() == "Why was it lost?"
    db.session.expire_all()
    assert db.session.get(Opportunity, dragged.id).stage == "negotiation"


def test_the_move_form_works_without_javascript(
    browser, browser_login, owner, workspace, live_server_url, csrf_on
):
    opportunity = add_opportunity(workspace, Stage.PROPOSAL, title="No script")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_login(page, owner)
    page.goto(board_url(live_server_url, workspace))

    item = card(page, "proposal", opportunity.id)
    item.locator("summary").click()
    item.locator("select[name=stage]").select_option("negotiation")
    item.locator("button[type=submit]").click()
    page.wait_for_load_state()

    assert card(page, "negotiation", opportunity.id).count() == 1
    context.close()


def demo_workspace(workspace):
    for name, company in (
        ("Lucía Fernández", "Panadería La Espiga"),
        ("Jorge Ramírez", "Ramírez Arquitectos"),
        ("Ana Costa", "Costa Surf School"),
    ):
        add_client(workspace, name=name, company=company)
    seed(workspace, random.Random(2026))


PAGES = {
    "board": "",
    "new": "new",
    "follow-ups": "follow-ups",
    "lost-report": "lost-report?preset=last_12_months",
    "lost-reasons": "lost-reasons",
}


@pytest.mark.parametrize("width", [1280, 390])
def test_pipeline_pages_fit_the_screen(
    page, browser_login, owner, workspace, live_server_url, width
):
    demo_workspace(workspace)
    lost, open_one = (
        db.session.scalars(
            select(Opportunity.id).where(Opportunity.stage == stage)
        ).first()
        for stage in (Stage.LOST, Stage.NEGOTIATION)
    )
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, owner)
    base = board_url(live_server_url, workspace)

    pages = {
        **PAGES,
        "detail": str(lost),
        "lost": f"{open_one}/lost",
        "won": f"{open_one}/won",
        "edit": f"{open_one}/edit",
    }
    for name, path in pages.items():
        page.goto(base + path)
        save_screenshot(page, f"pipeline-{name}-{width}")
        if name == "board":
            page.evaluate("document.querySelector('.cf-board').scrollLeft = 1e6")
            save_screenshot(page, f"pipeline-board-end-{width}")
        # Only the board scrolls sideways, inside itself; the page never does.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, (name, overflow)


# -- a long pipeline ---------------------------------------------------------


def long_column(workspace, count: int, stage=Stage.PROPOSAL) -> list[int]:
    """``count`` opportunities of one column, in board order."""
    rows = [
        Opportunity(
            workspace_id=workspace.id,
            prospect_name=f"Prospect {n}",
            prospect_company=f"Company {n}",
            title=f"Deal {n}",
            stage=stage,
            position=n,
            value_minor=1_000_00 + n,
            probability=50,
        )
        for n in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def cards_in(page, stage: str):
    return page.locator(f'[data-stage-list][data-stage="{stage}"] .cf-opp')


def test_show_more_opens_a_long_column_without_javascript(
    browser, browser_login, owner, workspace, live_server_url
):
    long_column(workspace, BOARD_CARDS + 7)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_login(page, owner)
    page.goto(board_url(live_server_url, workspace))
    foot = page.locator('[data-column="proposal"] [data-more]')

    assert cards_in(page, "proposal").count() == BOARD_CARDS
    assert foot.locator(".cf-col-more-note").inner_text() == (
        f"Showing {BOARD_CARDS} of {BOARD_CARDS + 7}"
    )
    foot.locator("a").click()
    page.wait_for_load_state()

    assert cards_in(page, "proposal").count() == BOARD_CARDS + 7
    assert page.locator('[data-column="proposal"] [data-more]').count() == 0
    assert page.url.endswith(f"#proposal-{BOARD_CARDS + 1}")
    context.close()


def test_dragging_into_a_long_column_updates_what_its_foot_says(
    page, browser_login, owner, workspace, live_server_url, csrf_on
):
    ids = long_column(workspace, BOARD_CARDS + 7)
    dragged = add_opportunity(workspace, Stage.NEGOTIATION, title="Late deal")
    browser_login(page, owner)
    page.goto(board_url(live_server_url, workspace))
    target = card(page, "proposal", ids[1])

    with page.expect_response(lambda r: r.url.endswith("/move")) as moved:
        card(page, "negotiation", dragged.id).drag_to(target)
    page.wait_for_selector("#board-status:not(:empty)")
    proposal = page.locator('[data-column="proposal"]')

    assert moved.value.status == 200
    assert proposal.locator("[data-count]").inner_text() == str(BOARD_CARDS + 8)
    assert proposal.locator(".cf-col-more-note").inner_text() == (
        f"Showing {BOARD_CARDS + 1} of {BOARD_CARDS + 8}"
    )
    page.reload()
    shown = cards_in(page, "proposal").evaluate_all(
        "cards => cards.map(c => Number(c.dataset.id))"
    )
    assert len(shown) == BOARD_CARDS
    assert dragged.id in shown[:3]
    assert [i for i in shown if i != dragged.id] == ids[: BOARD_CARDS - 1]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_long_column_fits_the_screen(
    page, browser_login, owner, workspace, live_server_url, width
):
    demo_workspace(workspace)
    long_column(workspace, BOARD_CARDS + 30)
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, owner)

    page.goto(board_url(live_server_url, workspace))
    foot = page.locator('[data-column="proposal"] [data-more]')
    foot.scroll_into_view_if_needed()
    save_screenshot(page, f"pipeline-board-long-{width}")

    assert foot.is_visible()
    assert foot.locator("a").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
