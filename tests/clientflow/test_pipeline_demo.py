"""The demo pipeline: every stage filled, histories, follow-ups, losses."""

from __future__ import annotations

import random
import re

from sqlalchemy import select

from clientflow_plugin import pipeline
from clientflow_plugin.clock import today_in
from clientflow_plugin.demo_data.pipeline import seed
from clientflow_plugin.models import Opportunity, Stage, StageChange
from host_stub.extensions import db
from tests.clientflow.pipeline_factories import add_client

#: Words of the English the demo once had, none of which Spanish uses.
ENGLISH = {
    "and", "booking", "brand", "call", "campaign", "for", "in", "meeting",
    "of", "project", "redesign", "send", "share", "shop", "site", "the",
    "to", "wait", "website", "with",
}  # fmt: skip


def seeded(workspace, clients=3):
    for n in range(clients):
        add_client(workspace, name=f"Client {n}", company=f"Company {n}")
    seed(workspace, random.Random(2026))
    return db.session.scalars(
        select(Opportunity)
        .where(Opportunity.workspace_id == workspace.id)
        .order_by(Opportunity.id)
    ).all()


def test_demo_fills_every_stage(workspace):
    seeded(workspace)

    board = pipeline.board(workspace.id)

    assert all(column.count >= 1 for column in board.columns)


def test_demo_links_some_opportunities_to_existing_clients(workspace):
    opportunities = seeded(workspace)

    linked = [o for o in opportunities if o.client_id is not None]
    free = [o for o in opportunities if o.prospect_name]
    assert len(linked) >= 3
    assert len(free) >= 10


def test_demo_works_without_any_client(workspace):
    opportunities = seeded(workspace, clients=0)

    assert len(opportunities) == 21


def test_demo_has_overdue_follow_ups(workspace):
    seeded(workspace)

    data = pipeline.follow_ups(workspace, today_in(workspace))

    assert len(data.overdue) >= 1
    assert len(data.this_week) >= 1


def test_demo_losses_have_reasons_and_histories(workspace):
    opportunities = seeded(workspace)

    lost = [o for o in opportunities if o.stage == Stage.LOST]
    assert lost and all(o.lost_reason_id for o in lost)
    for opportunity in lost:
        stages = db.session.scalars(
            select(StageChange.to_stage).where(
                StageChange.opportunity_id == opportunity.id
            )
        ).all()
        assert len(stages) >= 2 and stages[-1] == "lost"
        assert opportunity.closed_on < today_in(workspace)


def test_demo_is_the_same_for_the_same_seed(workspace, make_workspace):
    other = make_workspace(timezone=workspace.timezone)

    first = seeded(workspace)
    second = seeded(other)

    def shape(items):
        return [
            (o.stage, o.value_minor, o.probability, o.title, o.next_follow_up)
            for o in items
        ]

    assert shape(first) == shape(second)


def test_demo_titles_steps_and_notes_are_in_spanish(make_workspace):
    workspace = make_workspace(language="es")
    opportunities = seeded(workspace)

    texts = [
        text
        for o in opportunities
        for text in (o.title, o.next_step, o.notes, o.lost_note)
        if text
    ]

    assert len(texts) >= 21 + 13
    for text in texts:
        assert not ENGLISH & set(re.findall(r"\w+", text.lower())), text
