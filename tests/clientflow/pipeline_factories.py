"""Small builders for the pipeline tests."""

from __future__ import annotations

import io

import pydyf
from sqlalchemy import select

from clientflow_plugin import pipeline
from clientflow_plugin.models import Client, LostReason, Opportunity, Stage
from host_stub.extensions import db


def add_opportunity(workspace, stage=Stage.PROSPECT, **fields) -> Opportunity:
    """An opportunity created through the domain, then moved to ``stage``."""
    fields.setdefault("prospect_name", "Marta Gil")
    fields.setdefault("prospect_company", "Gil Interiores")
    lost_reason_id = fields.pop("lost_reason_id", None)
    lost_note = fields.pop("lost_note", "")
    opportunity = pipeline.create_opportunity(
        workspace,
        actor_id=None,
        stage=stage if Stage(stage) not in pipeline.CLOSED_STAGES else Stage.PROSPECT,
        **fields,
    )
    if Stage(stage) in pipeline.CLOSED_STAGES:
        if stage == Stage.LOST and lost_reason_id is None:
            lost_reason_id = reason(workspace, "Price").id
        pipeline.move_stage(
            opportunity,
            stage,
            actor_id=None,
            lost_reason_id=lost_reason_id,
            lost_note=lost_note,
        )
    return opportunity


def add_client(workspace, name="Lucía Fernández", **fields) -> Client:
    client = Client(workspace_id=workspace.id, name=name, **fields)
    db.session.add(client)
    db.session.commit()
    return client


def reason(workspace, label: str) -> LostReason:
    """One of the workspace's default lost reasons, by label."""
    return db.session.scalars(
        select(LostReason).where(
            LostReason.workspace_id == workspace.id, LostReason.label == label
        )
    ).one()


def pdf_bytes() -> bytes:
    """A small but real PDF document."""
    document = pydyf.PDF()
    document.add_page(
        pydyf.Dictionary(
            {
                "Type": "/Page",
                "Parent": document.pages.reference,
                "MediaBox": pydyf.Array([0, 0, 595, 842]),
            }
        )
    )
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def bulk_opportunities(workspace, count: int, stage=Stage.PROPOSAL) -> None:
    """``count`` plain rows, faster than the domain, for query counting."""
    db.session.add_all(
        Opportunity(
            workspace_id=workspace.id,
            prospect_name=f"Prospect {n}",
            stage=stage,
            position=n,
            value_minor=100_00 * (n + 1),
            probability=50,
        )
        for n in range(count)
    )
    db.session.commit()
