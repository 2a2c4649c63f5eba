"""What Spanish and Latin American spreadsheets write: encodings, separators,
number and date formats, header names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from clientflow_plugin.spreadsheets import (
    COMMA,
    POINT,
    AmbiguousNumber,
    ReadError,
    parse_date,
    parse_number,
)
from tests.clientflow.importing import (
    CLIENT_HEADER,
    INVOICE_HEADER,
    check,
    client_row,
    csv_bytes,
    invoice_row,
    uploads,
)

# -- numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("12.345.678,9", "12345678.9"),
        ("12,345,678.9", "12345678.9"),
        ("1.234.567", "1234567"),
        ("1,234,567", "1234567"),
        ("0,500", "0.5"),
        (",5", "0.5"),
        ("-1.234,56", "-1234.56"),
        ("−3,50", "-3.5"),
        ("+7", "7"),
        ("€ 1.234,56", "1234.56"),
        ("1.234,56 €", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"),
        ("1234", "1234"),
        ("1.234,567", "1234.567"),
    ],
)
def test_numbers_are_read_in_either_convention(text, value):
    assert parse_number(text) == Decimal(value)


@pytest.mark.parametrize("text", ["1.500", "1,500", "12.345", "999,999"])
def test_a_mark_before_three_digits_is_ambiguous(text):
    with pytest.raises(AmbiguousNumber):
        parse_number(text)


def test_the_ambiguity_message_names_both_readings():
    with pytest.raises(AmbiguousNumber) as caught:
        parse_number("1.500")

    assert "1.5 or 1500" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "mark", "value"),
    [
        ("1.500", COMMA, "1500"),
        ("1,500", COMMA, "1.5"),
        ("1.500", POINT, "1.5"),
        ("1,500", POINT, "1500"),
    ],
)
def test_a_declared_decimal_mark_settles_ambiguous_values(text, mark, value):
    assert parse_number(text, mark) == Decimal(value)


def test_a_declared_mark_leaves_unambiguous_values_alone():
    assert parse_number("1,234.56", COMMA) == Decimal("1234.56")


@pytest.mark.parametrize(
    "text", ["12.34,5", "1.234.56", "1,23,456", "01.234,5", "12,", "1e5", "abc", ""]
)
def test_malformed_numbers_are_refused(text):
    with pytest.raises(ReadError):
        parse_number(text)


# -- dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2024-03-15", date(2024, 3, 15)),
        ("2024/03/15", date(2024, 3, 15)),
        ("2024-03-15 00:00:00", date(2024, 3, 15)),
        ("15/03/2024", date(2024, 3, 15)),
        ("5/3/2024", date(2024, 3, 5)),
        ("05/03/24", date(2024, 3, 5)),
        ("5/3/24", date(2024, 3, 5)),
        ("15.03.2024", date(2024, 3, 15)),
        ("15-03-2024", date(2024, 3, 15)),
        ("31/12/99", date(1999, 12, 31)),
    ],
)
def test_dates_are_iso_or_day_month_year(text, value):
    assert parse_date(text) == value


def test_month_day_year_is_refused_rather_than_guessed():
    with pytest.raises(ReadError) as caught:
        parse_date("03/15/2024")

    assert "no month 15" in str(caught.value)


@pytest.mark.parametrize("text", ["31/02/2024", "2024-13-01", "15/03", "ayer"])
def test_impossible_dates_are_refused(text):
    with pytest.raises(ReadError):
        parse_date(text)


# -- encodings ---------------------------------------------------------------

ACCENTED = "Iñaki Etxeberría Muñoz"


@pytest.mark.parametrize(
    ("encoding", "label"),
    [
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8 (BOM)"),
        ("cp1252", "Windows-1252"),
        ("utf-16", "UTF-16"),
    ],
)
def test_each_encoding_keeps_accented_names(workspace, encoding, label):
    header = ["id externo", "nombre", "teléfono", "región"]
    data = csv_bytes(
        header, [["C1", ACCENTED, "+34 600", "ES"]], delimiter=";", encoding=encoding
    )

    plan = check(workspace, uploads(clients=data))

    assert plan.problems == []
    assert plan.files[0].encoding == label
    assert plan.clients[0]["name"] == ACCENTED
    assert plan.clients[0]["phone"] == "+34 600"


def test_windows_1252_euro_sign_and_quotes_are_read(workspace):
    data = csv_bytes(
        ["id", "nombre", "empresa"],
        [["C1", "“Café” Ruiz", "Tostadores €uro"]],
        delimiter=";",
        encoding="cp1252",
    )

    plan = check(workspace, uploads(clients=data))

    assert plan.clients[0]["name"] == "“Café” Ruiz"
    assert plan.clients[0]["company"] == "Tostadores €uro"


def test_a_workbook_saved_as_such_is_named_as_the_problem(workspace):
    data = b"PK\x03\x04" + b"\x00" * 100

    plan = check(workspace, uploads(clients=data))

    assert [(p.file, p.line) for p in plan.problems] == [("clients.csv", 0)]
    assert "save it as CSV" in plan.problems[0].message


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_a_problem(workspace):
    data = b"id;nombre\r\nC1;x\r\n" + b"\x81\x8d"

    plan = check(workspace, uploads(clients=data))

    assert "neither UTF-8 nor Windows-1252" in plan.problems[0].message


# -- separators and headers --------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_each_separator_gives_the_same_clients(workspace, delimiter):
    rows = [client_row("C1", "Laura, la del pan"), client_row("C2", "Jordi; Puig")]
    data = csv_bytes(CLIENT_HEADER, rows, delimiter=delimiter)

    plan = check(workspace, uploads(clients=data))

    assert plan.files[0].delimiter == delimiter
    assert [c["name"] for c in plan.clients] == ["Laura, la del pan", "Jordi; Puig"]


def test_the_separator_is_the_one_that_finds_known_headers(workspace):
    # Split on commas the header would be one unknown column with a comma.
    data = b"Id factura;Fecha, de pago;importe\r\n"
    header = ["invoice external id", "date", "amount"]

    plan = check(workspace, uploads(payments=csv_bytes(header, [], delimiter=";")))
    plan_odd = check(workspace, uploads(payments=data))

    assert plan.files[0].delimiter == ";"
    assert plan_odd.files[0].delimiter == ";"


def test_excel_sep_line_names_the_separator(workspace):
    data = b"sep=|\r\nid|nombre\r\nC1|Laura\r\n"

    plan = check(workspace, uploads(clients=data))

    assert plan.files[0].delimiter == "|"
    assert plan.clients[0]["name"] == "Laura"


def test_headers_match_without_case_accents_or_punctuation(workspace):
    header = ["ID_Factura", "NÚMERO", "Id Cliente", "Fecha de Emision", "Concepto"]
    header.append("precio")
    clients = csv_bytes(CLIENT_HEADER, [client_row("C1")])
    invoices = csv_bytes(header, [["F1", "A-1", "C1", "15/01/2024", "Web", "10,00"]])

    plan = check(workspace, uploads(clients=clients, invoices=invoices))

    assert plan.problems == []
    assert plan.invoices[0].number == "A-1"


def test_an_unknown_column_is_noted_not_refused(workspace):
    data = csv_bytes(["id", "nombre", "notas internas"], [["C1", "Laura", "x"]])

    plan = check(workspace, uploads(clients=data))

    assert plan.problems == []
    assert plan.notices == ["clients.csv: the column “notas internas” is not used."]


def test_a_missing_required_column_is_reported_on_the_header_line(workspace):
    data = csv_bytes(INVOICE_HEADER[:-3], [invoice_row()[:-3]])

    plan = check(workspace, uploads(invoices=data))

    assert [(p.file, p.line, p.column) for p in plan.problems] == [
        ("invoices.csv", 1, "unit price")
    ]


def test_a_quoted_cell_may_span_lines_and_later_lines_keep_their_numbers(workspace):
    data = (
        'id;nombre;dirección de facturación\r\nC1;Laura;"Calle Mayor 1\r\n'
        '28013 Madrid"\r\nC2;;x\r\n'
    ).encode()

    plan = check(workspace, uploads(clients=data))

    assert plan.problems[0].line == 4
    assert plan.problems[0].column == "nombre (B)"
