"""Clients and their projects in the API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..clients import (
    LINE_FIELDS,
    PROJECT_NAME_MAX,
    SORTS,
    TEXT_FIELDS,
    VIEWS,
)
from ..models import ClientStatus, ProjectStatus
from .common import Amount, BusinessDate, Minor, PageOut, PageQuery, Text
from .invoices import amounts

CLIENT_STATUSES = tuple(status.value for status in ClientStatus)
PROJECT_STATUSES = tuple(status.value for status in ProjectStatus)


class ClientIn(Schema):
    """A new client; only the name is required. Billing details are encrypted."""

    name = Text(LINE_FIELDS["name"], blank=False, required=True)
    company = Text(LINE_FIELDS["company"])
    email = Text(LINE_FIELDS["email"])
    phone = Text(LINE_FIELDS["phone"])
    website = Text(LINE_FIELDS["website"])
    address = Text(TEXT_FIELDS["address"])
    region = Text(
        LINE_FIELDS["region"], metadata={"description": "Region code: ES, ES-CN, MX"}
    )
    status = fields.String(validate=validate.OneOf(CLIENT_STATUSES))
    external_id = Text(LINE_FIELDS["external_id"])
    tax_id = Text(LINE_FIELDS["tax_id"])
    billing_address = Text(TEXT_FIELDS["billing_address"])
    bank_details = Text(TEXT_FIELDS["bank_details"])
    billing_notes = Text(TEXT_FIELDS["billing_notes"])


class ClientUpdateIn(ClientIn):
    """The fields to change; the others stay as they are."""

    name = Text(LINE_FIELDS["name"], blank=False)


class ClientListQuery(PageQuery):
    search = Text(200, metadata={"description": "Name or company, any case or accent"})
    status = fields.String(validate=validate.OneOf(CLIENT_STATUSES))
    view = fields.String(
        load_default="current",
        validate=validate.OneOf(VIEWS),
        metadata={"description": "current (not archived), archived or all"},
    )
    sort = fields.String(load_default="name", validate=validate.OneOf(SORTS))


class ClientSummaryOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    company = fields.String(required=True)
    email = fields.String(required=True)
    status = fields.String(required=True)
    region = fields.String(required=True)
    archived = fields.Boolean(required=True)
    active_projects = fields.Integer(required=True)
    currency = fields.String(required=True)
    revenue = Amount(
        required=True, metadata={"description": "Issued invoices in `currency`"}
    )
    revenue_minor = Minor(required=True)
    last_interaction_at = fields.DateTime(required=True, allow_none=True)


class ClientPageOut(PageOut):
    items = fields.List(fields.Nested(ClientSummaryOut), required=True)


class ClientOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    company = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True)
    website = fields.String(required=True)
    address = fields.String(required=True)
    region = fields.String(required=True)
    status = fields.String(required=True)
    archived = fields.Boolean(required=True)
    archived_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    external_id = fields.String(required=True, allow_none=True)
    tax_id = fields.String(required=True, allow_none=True)
    billing_address = fields.String(required=True, allow_none=True)
    bank_details = fields.String(required=True, allow_none=True)
    billing_notes = fields.String(required=True, allow_none=True)


class ProjectIn(Schema):
    name = Text(PROJECT_NAME_MAX, blank=False, required=True)
    status = fields.String(validate=validate.OneOf(PROJECT_STATUSES))
    start_date = BusinessDate(allow_none=True)
    end_date = BusinessDate(allow_none=True)


class ProjectOut(Schema):
    id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    start_date = fields.Date(required=True, allow_none=True)
    end_date = fields.Date(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class ProjectPageOut(PageOut):
    items = fields.List(fields.Nested(ProjectOut), required=True)


def client_summary(card, currency: str) -> dict:
    """A client card of the domain as the list shows it."""
    return {
        "id": card.id,
        "name": card.name,
        "company": card.company,
        "email": card.email,
        "status": card.status,
        "region": card.region,
        "archived": card.archived,
        "active_projects": card.active_projects,
        "currency": currency,
        **amounts("revenue", card.revenue_minor, currency),
        "last_interaction_at": card.last_interaction_at,
    }
