"""The JSON that feeds the dashboard's charts.

Every amount comes three ways: the exact decimal as a string, the integer of
minor units, and the text the reader sees (their language, the workspace's
currency), which the charts' tooltips show as it is.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from .common import Amount, Minor


class MoneyOut(Schema):
    amount = Amount(required=True)
    minor = Minor(required=True)
    formatted = fields.String(required=True)


class SeriesOut(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)


class MonthRevenueOut(Schema):
    month = fields.String(required=True, metadata={"example": "2026-03"})
    label = fields.String(required=True)
    invoiced = fields.Nested(MoneyOut, required=True)
    collected = fields.Nested(MoneyOut, required=True)


class MonthlyTotalsOut(Schema):
    invoiced = fields.Nested(MoneyOut, required=True)
    collected = fields.Nested(MoneyOut, required=True)


class MonthlyChartOut(Schema):
    """Invoiced and collected in each of the last twelve months, oldest first."""

    currency = fields.String(required=True)
    series = fields.List(fields.Nested(SeriesOut), required=True)
    months = fields.List(fields.Nested(MonthRevenueOut), required=True)
    totals = fields.Nested(MonthlyTotalsOut, required=True)


class PeriodOut(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    start = fields.Date(allow_none=True, required=True)
    last_day = fields.Date(allow_none=True, required=True)


class ClientShareOut(Schema):
    client_id = fields.Integer(required=True)
    name = fields.String(required=True)
    collected = fields.Nested(MoneyOut, required=True)
    share = fields.String(required=True, metadata={"example": "41.3"})
    share_label = fields.String(required=True)


class OthersShareOut(Schema):
    count = fields.Integer(required=True)
    label = fields.String(required=True)
    collected = fields.Nested(MoneyOut, required=True)
    share = fields.String(required=True)
    share_label = fields.String(required=True)


class ClientsChartOut(Schema):
    """Collected revenue of the period: the top clients, then everyone else."""

    currency = fields.String(required=True)
    period = fields.Nested(PeriodOut, required=True)
    total = fields.Nested(MoneyOut, required=True)
    clients = fields.List(fields.Nested(ClientShareOut), required=True)
    others = fields.Nested(OthersShareOut, required=True)


class MonthComparisonOut(Schema):
    month = fields.Integer(required=True)
    label = fields.String(required=True)
    last_year = fields.Nested(MoneyOut, required=True)
    this_year = fields.Nested(MoneyOut, allow_none=True, required=True)
    growth = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Percent, one decimal; null when it cannot be said"},
    )
    growth_label = fields.String(required=True)
    future = fields.Boolean(required=True)


class YearComparisonChartOut(Schema):
    """Collected revenue of this year beside last year's, month by month."""

    currency = fields.String(required=True)
    this_year = fields.Integer(required=True)
    last_year = fields.Integer(required=True)
    series = fields.List(fields.Nested(SeriesOut), required=True)
    months = fields.List(fields.Nested(MonthComparisonOut), required=True)
