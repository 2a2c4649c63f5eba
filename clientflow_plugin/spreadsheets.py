"""What Spanish and Latin American spreadsheets write when they save a CSV file.

Encodings: UTF-8 with or without a byte-order mark, Windows-1252 (what Excel
writes on a Spanish Windows), and UTF-16 with a byte-order mark. Separators:
comma, semicolon (the default where the comma is the decimal mark) or tab.
Numbers: decimal comma with dot thousands ("1.234,56") as well as decimal
point ("1,234.56", "1234.56"). Dates: ISO or day/month/year.

Each value is read on its own; a value that two conventions read differently
("1.500" is one and a half or fifteen hundred) is refused as ambiguous unless
the caller says which decimal mark the file uses.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from flask_babel import gettext as _

#: The decimal marks a caller may declare for values that are ambiguous.
COMMA = ","
POINT = "."

DELIMITERS = (",", ";", "\t")

# Workbooks saved as such instead of as CSV: an .xlsx is a zip file, an .xls
# an OLE compound file.
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")

_CURRENCY_EDGES = re.compile(r"^(?:[€$£¥]|[A-Z]{3}|US\$)\s*|\s*(?:[€$£¥]|[A-Z]{3})$")
_BLANKS = re.compile(r"[\s\u00a0\u202f]+")
_NUMBER_BODY = re.compile(r"^[0-9.,]*[0-9][0-9.,]*$")
_SIMPLE_NUMBER = re.compile(r"(-?)(\d+)(?:[.,](\d{1,2}|\d{4,}))?")
_ISO_DATE = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_DMY_DATE = re.compile(
    r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?: \d{1,2}:\d{2}(?::\d{2})?)?$"
)


class ReadError(ValueError):
    """A file, or a value in it, that cannot be read; the message is for people."""


class AmbiguousNumber(ReadError):
    """A number that reads as two different values under the two conventions."""


@dataclass(frozen=True)
class Table:
    """A CSV file read into rows of text cells, with where each row starts."""

    encoding: str
    delimiter: str
    headers: list[str]
    # (line number in the file, cells), the header being line 1
    rows: list[tuple[int, list[str]]]
    header_line: int = 1


def decode(data: bytes) -> tuple[str, str]:
    """The text of ``data`` and the name of the encoding it was written in.

    UTF-8 is tried first and strictly: Windows-1252 text with accents is
    almost never valid UTF-8, so a failure means the file is Windows-1252.
    """
    if any(data.startswith(magic) for magic in _WORKBOOK_MAGIC):
        raise ReadError(
            _("This is a spreadsheet workbook, not a CSV file: save it as CSV first.")
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            raise ReadError(_("The file is not valid UTF-16 text.")) from exc
    try:
        text = data.decode("utf-8-sig")
        name = "UTF-8 (BOM)" if data.startswith(codecs.BOM_UTF8) else "UTF-8"
    except UnicodeDecodeError:
        try:
            text, name = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError as exc:
            raise ReadError(
                _("The file is neither UTF-8 nor Windows-1252 text.")
            ) from exc
    if "\x00" in text:
        raise ReadError(_("The file holds binary data, not CSV text."))
    return text, name


def read_table(data: bytes, score: Callable[[list[str]], int]) -> Table:
    """Decode ``data``, find its separator and split it into rows.

    ``score(cells)`` says how many cells of a candidate header row are known
    column names; the separator that recognises the most wins, so a header
    such as "Importe;Fecha" is never split on a comma.
    """
    text, encoding = decode(data)
    header_line = 1
    first, _sep, rest = text.partition("\n")
    # Excel writes "sep=;" as a first line when asked to name the separator.
    declared = re.fullmatch(r"\s*sep=(.)\s*", first)
    if declared:
        text, header_line = rest, 2
    delimiter = declared.group(1) if declared else sniff_delimiter(text, score)

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader, None)
        if headers is None:
            raise ReadError(_("The file is empty."))
        rows = []
        previous = reader.line_num
        for cells in reader:
            start = previous + 1
            previous = reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append((start + header_line - 1, cells))
    except csv.Error as exc:
        raise ReadError(
            _(
                "Line %(line)s cannot be read as CSV: %(error)s",
                line=reader.line_num + header_line - 1,
                error=str(exc),
            )
        ) from exc
    return Table(encoding, delimiter, headers, rows, header_line)


def sniff_delimiter(text: str, score: Callable[[list[str]], int]) -> str:
    """The separator under which the first line holds the most known headers."""
    best, best_key = DELIMITERS[0], (-1, -1)
    for candidate in DELIMITERS:
        try:
            cells = next(csv.reader(io.StringIO(text, newline=""), delimiter=candidate))
        except (StopIteration, csv.Error):
            continue
        key = (score(cells), len(cells))
        if key > best_key:
            best, best_key = candidate, key
    return best


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """``text`` lower-cased, without accents and with single spaces.

    "Fecha de Emisión", "fecha_de_emision" and " FECHA  DE EMISION " fold to
    the same key.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[_\-./:]+", " ", plain.casefold())
    return " ".join(plain.split())


def parse_number(text: str, decimal: str | None = None) -> Decimal:
    """A number as a spreadsheet shows it, decided from the value alone.

    With both marks present the last one is the decimal mark and the other
    groups thousands. One mark written several times groups thousands. One
    mark written once is the decimal mark, unless three digits follow a group
    of one to three digits ("1.500", "12,345"): that value reads differently
    under the two conventions, so ``decimal`` (``COMMA`` or ``POINT``) must
    settle it or ``AmbiguousNumber`` is raised. Thousands groups must be well
    formed ("12.34,5" is refused).
    """
    shown = text.strip()
    simple = _SIMPLE_NUMBER.fullmatch(shown)
    if simple:
        # Most cells: digits, perhaps a sign and one mark with one, two or
        # four or more decimals, which no convention reads as thousands.
        sign, whole, fraction = simple.groups()
        return Decimal(f"{sign}{whole}.{fraction}" if fraction else sign + whole)
    value = _CURRENCY_EDGES.sub("", shown.replace("\u2212", "-")).strip()
    sign = ""
    if value[:1] in ("+", "-"):
        sign, value = value[0].replace("+", ""), value[1:].strip()
    value = _BLANKS.sub("", value)
    if not _NUMBER_BODY.match(value):
        raise ReadError(_("“%(value)s” is not a number.", value=shown))

    marks = {m for m in value if m in ".,"}
    if not marks:
        whole, fraction = value, ""
    elif len(marks) == 2:
        mark = "." if value.rfind(".") > value.rfind(",") else ","
        whole, fraction = _split_once(value, mark, shown)
        whole = _ungroup(whole, "," if mark == "." else ".", shown)
    else:
        (mark,) = marks
        if value.count(mark) > 1:
            whole, fraction = _ungroup(value, mark, shown), ""
        else:
            whole, fraction = _split_once(value, mark, shown)
            if _could_be_thousands(whole, fraction):
                if decimal is None:
                    raise AmbiguousNumber(
                        _(
                            "“%(value)s” could be %(decimal)s or %(thousands)s: "
                            "write it without a thousands separator, or say "
                            "which decimal mark the file uses.",
                            value=shown,
                            decimal=Decimal(f"{whole}.{fraction}").normalize(),
                            thousands=whole + fraction,
                        )
                    )
                if decimal != mark:
                    whole, fraction = whole + fraction, ""
    if not fraction:
        return Decimal(f"{sign}{whole}")
    return Decimal(f"{sign}{whole or '0'}.{fraction}")


def _split_once(value: str, mark: str, shown: str) -> tuple[str, str]:
    """The parts before and after the one decimal mark; digits must follow it."""
    whole, _mark, fraction = value.partition(mark)
    if mark in fraction or not fraction.isdigit():
        raise ReadError(_("“%(value)s” is not a number.", value=shown))
    return whole, fraction


def _could_be_thousands(whole: str, fraction: str) -> bool:
    return (
        len(fraction) == 3
        and 1 <= len(whole) <= 3
        and whole.isdigit()
        and not whole.startswith("0")
    )


def _ungroup(whole: str, group: str, shown: str) -> str:
    """The digits of a thousands-grouped integer part, checking every group."""
    head, *tail = whole.split(group)
    if not tail:
        if whole and not whole.isdigit():
            raise ReadError(_("“%(value)s” is not a number.", value=shown))
        return whole
    well_formed = (
        head.isdigit()
        and 1 <= len(head) <= 3
        and not head.startswith("0")
        and all(len(part) == 3 and part.isdigit() for part in tail)
    )
    if not well_formed:
        raise ReadError(
            _("“%(value)s” has misplaced thousands separators.", value=shown)
        )
    return head + "".join(tail)


def parse_date(text: str) -> date:
    """An ISO date (2024-03-15) or a day/month/year one (15/03/2024, 5/3/24).

    Two-digit years are 2000–2068 for 00–68 and 1969–1999 for 69–99, as the
    C library reads them. Month/day/year is never guessed.
    """
    value = text.strip()
    iso = _ISO_DATE.match(value)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    else:
        dmy = _DMY_DATE.match(value)
        if not dmy:
            raise ReadError(
                _(
                    "“%(value)s” is not a date: write day/month/year "
                    "(15/03/2024) or year-month-day (2024-03-15).",
                    value=value,
                )
            )
        day, month, year = int(dmy.group(1)), int(dmy.group(3)), dmy.group(4)
        year = int(year) if len(year) == 4 else _century(int(year))
        if month > 12:
            raise ReadError(
                _(
                    "“%(value)s” is not a date: dates are day/month/year, and "
                    "there is no month %(month)s.",
                    value=value,
                    month=month,
                )
            )
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ReadError(
            _("“%(value)s” is not a date of the calendar.", value=value)
        ) from exc


def _century(two_digits: int) -> int:
    return 2000 + two_digits if two_digits < 69 else 1900 + two_digits
