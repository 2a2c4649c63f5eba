"""Opportunities of the sales pipeline in the API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..models import OPEN_STAGES, Stage
from ..pipeline import weighted_minor
from .common import (
    Amount,
    BusinessDate,
    DecimalString,
    Id,
    Minor,
    PageOut,
    PageQuery,
    Text,
)
from .invoices import amounts

STAGES = tuple(stage.value for stage in Stage)

#: How far down a column a card may be placed; further means last.
MAX_POSITION = 100_000


class OpportunityIn(Schema):
    """A new opportunity: a client of the workspace, or a prospect's name."""

    stage = fields.String(
        load_default=Stage.PROSPECT.value,
        validate=validate.OneOf([stage.value for stage in OPEN_STAGES]),
    )
    client_id = Id(load_default=None, allow_none=True)
    prospect_name = Text(200, load_default="")
    prospect_company = Text(200, load_default="")
    title = Text(200, load_default="")
    value = DecimalString(
        load_default=None,
        allow_none=True,
        metadata={"description": "Estimated value in the workspace's currency"},
    )
    probability = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=100),
        metadata={"description": "Percent; the stage's default when left out"},
    )
    proposal_url = Text(1000, load_default="")
    proposal_sent_on = BusinessDate(load_default=None, allow_none=True)
    next_follow_up = BusinessDate(load_default=None, allow_none=True)
    next_step = Text(500, load_default="")
    notes = Text(10_000, load_default="")


class StageMoveIn(Schema):
    """A move to another stage, or to another place in the same column."""

    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    position = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=MAX_POSITION),
        metadata={"description": "Place in the column from 0; last when left out"},
    )
    lost_reason_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "Required when the stage is lost"},
    )
    lost_note = Text(1000, load_default="")
    create_client = fields.Boolean(
        load_default=False,
        metadata={"description": "On won: turn the prospect into a client"},
    )
    project_name = Text(200, load_default="")


class OpportunityListQuery(PageQuery):
    stage = fields.String(validate=validate.OneOf(STAGES))
    client_id = fields.Integer(
        strict=False, validate=validate.Range(min=1, max=2**31 - 1)
    )


class OpportunityOut(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    client_id = fields.Integer(required=True, allow_none=True)
    client_name = fields.String(required=True, allow_none=True)
    prospect_name = fields.String(required=True)
    prospect_company = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    position = fields.Integer(required=True)
    currency = fields.String(required=True)
    value = Amount(required=True)
    value_minor = Minor(required=True)
    probability = fields.Integer(required=True)
    weighted_value = Amount(
        required=True, metadata={"description": "value × probability"}
    )
    weighted_value_minor = Minor(required=True)
    proposal_url = fields.String(required=True)
    proposal_sent_on = fields.Date(required=True, allow_none=True)
    has_proposal_file = fields.Boolean(required=True)
    next_follow_up = fields.Date(required=True, allow_none=True)
    next_step = fields.String(required=True)
    notes = fields.String(required=True)
    lost_reason_id = fields.Integer(required=True, allow_none=True)
    lost_reason = fields.String(required=True, allow_none=True)
    lost_note = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    closed_on = fields.Date(required=True, allow_none=True)


class OpportunityPageOut(PageOut):
    items = fields.List(fields.Nested(OpportunityOut), required=True)


def opportunity_data(opportunity, currency: str) -> dict:
    """An opportunity with its amounts in both forms and its weighted value."""
    return {
        "id": opportunity.id,
        "title": opportunity.title,
        "client_id": opportunity.client_id,
        "client_name": opportunity.client.name if opportunity.client else None,
        "prospect_name": opportunity.prospect_name,
        "prospect_company": opportunity.prospect_company,
        "stage": opportunity.stage,
        "position": opportunity.position,
        "currency": currency,
        **amounts("value", opportunity.value_minor, currency),
        "probability": opportunity.probability,
        **amounts(
            "weighted_value",
            weighted_minor(opportunity.value_minor, opportunity.probability),
            currency,
        ),
        "proposal_url": opportunity.proposal_url,
        "proposal_sent_on": opportunity.proposal_sent_on,
        "has_proposal_file": opportunity.proposal_file_id is not None,
        "next_follow_up": opportunity.next_follow_up,
        "next_step": opportunity.next_step,
        "notes": opportunity.notes,
        "lost_reason_id": opportunity.lost_reason_id,
        "lost_reason": opportunity.lost_reason.label
        if opportunity.lost_reason
        else None,
        "lost_note": opportunity.lost_note,
        "created_at": opportunity.created_at,
        "closed_on": opportunity.closed_on,
    }
