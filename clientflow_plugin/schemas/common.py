"""Fields and schemas shared by every area of the API: text, amounts, pages, errors."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

#: The largest id a path or a body may name; larger ones cannot exist.
MAX_ID = 2**31 - 1

#: Business dates outside this range are typing mistakes, and date arithmetic
#: (due dates, schedules) near the ends of the calendar would overflow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)

DECIMAL_PATTERN = r"^-?[0-9]{1,16}(\.[0-9]{1,6})?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)


def _storable(value: str) -> None:
    """Refuse text PostgreSQL cannot store: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValidationError("Text may not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError("Text must be valid Unicode.") from exc


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("May not be blank.")


class Text(fields.String):
    """A string of at most ``max_length`` characters that every database stores."""

    def __init__(self, max_length: int, *, blank: bool = True, **kwargs) -> None:
        validators = [validate.Length(max=max_length), _storable]
        if not blank:
            validators.insert(0, validate.Length(min=1))
            validators.append(_not_blank)
        super().__init__(validate=validators, **kwargs)


class DecimalString(fields.String):
    """An exact decimal written as a JSON string ("1234.56"), never a float."""

    def __init__(self, **kwargs) -> None:
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("pattern", DECIMAL_PATTERN)
        metadata.setdefault("example", "1234.56")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _DECIMAL_RE.match(text):
            raise ValidationError("Not an exact decimal such as 1234.56.")
        return Decimal(text)

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else str(value)


def Id(**kwargs) -> fields.Integer:  # noqa: N802  (reads like a field class)
    """An id of a row: a positive integer that fits the database's column."""
    return fields.Integer(
        strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs
    )


def BusinessDate(**kwargs) -> fields.Date:  # noqa: N802
    """A calendar date within the range the application accepts."""
    return fields.Date(
        validate=validate.Range(min=EARLIEST_DATE, max=LATEST_DATE), **kwargs
    )


def Amount(**kwargs) -> fields.String:  # noqa: N802
    """An amount in the currency's major unit, as an exact decimal string."""
    kwargs.setdefault("metadata", {})
    kwargs["metadata"].setdefault(
        "description", "Exact decimal in the currency's major unit, e.g. 1234.56"
    )
    return fields.String(**kwargs)


def Minor(**kwargs) -> fields.Integer:  # noqa: N802
    """The same amount as an integer of the currency's minor unit (cents)."""
    return fields.Integer(**kwargs)


class PageQuery(Schema):
    """Which page of a list to return."""

    page = fields.Integer(
        load_default=1,
        strict=False,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "Page number, from 1"},
    )
    per_page = fields.Integer(
        load_default=50,
        strict=False,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Items per page, at most 100"},
    )


class PageOut(Schema):
    """The envelope of every list: its items and where the page stands."""

    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class ErrorOut(Schema):
    """Every error of the API: a stable code, a sentence, and per-field messages."""

    error = fields.String(
        required=True, metadata={"description": "Stable code, e.g. not_found"}
    )
    message = fields.String(required=True)
    fields_ = fields.Dict(
        data_key="fields",
        required=True,
        metadata={"description": "Messages per field of the request"},
    )
