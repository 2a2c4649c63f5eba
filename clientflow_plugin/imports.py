"""Importing an agency's history from CSV: clients, invoices with their lines, payments.

:func:`check` reads the three files and plans every row against the workspace
without writing anything: what would be created, what was imported before
and is skipped, and every problem with its file, line and column. :func:`apply`
writes a plan that has no problem, with bulk inserts, in one transaction.

Imported invoices are history: issued (or void when the file says so), in the
series ``import`` with their original numbers and dates, so the workspace's
own sequence never moves and never collides with them. Their totals are
recomputed by :mod:`clientflow_plugin.totals`; a stated total that disagrees
is a problem, not a value to keep. Rows are matched by external id, so the
same files imported twice create nothing twice.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol

from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import clock, totals
from .invoices import (
    FIRST_DATE,
    LAST_DATE,
    MAX_DESCRIPTION,
    MAX_LINES,
    MAX_QUANTITY,
    MAX_REFERENCE,
    QUANTITY_PLACES,
)
from .models import (
    AuditEvent,
    Client,
    ClientStatus,
    Invoice,
    InvoiceLine,
    InvoiceLineTax,
    InvoiceState,
    InvoiceTax,
    LineKind,
    Payment,
    Settings,
    TaxRate,
)
from .money import MAX_MINOR, MoneyError, exponent, format_money
from .spreadsheets import (
    DELIMITERS,
    ReadError,
    Table,
    decode,
    fold,
    parse_date,
    parse_number,
    read_table,
)

logger = logging.getLogger(__name__)

#: The series of invoices kept with their original numbers.
IMPORT_SERIES = "import"
FILE_KINDS = ("clients", "invoices", "payments")
#: Rows of each kind shown before the import.
PREVIEW_ROWS = 5
#: Rows written per statement; also the step of the progress bar.
CHUNK = 2000
#: Rows whose new ids are looked up at once (bound parameters of one query).
LOOKUP_CHUNK = 500
#: The smallest step of a quantity or a percentage the database keeps.
QUANTUM = Decimal(1).scaleb(-QUANTITY_PLACES)
TAX_SEPARATORS = (";", "|")


def _words(table: dict[Any, str]) -> dict[str, Any]:
    """Folded word → value, from {value: "word, word, ..."}."""
    return {
        fold(word): value
        for value, words in table.items()
        for word in words.split(",")
        if word.strip()
    }


#: The words of a file for each of billing's payment methods.
METHOD_WORDS = {
    "transfer": "transfer, bank transfer, wire, sepa, spei, transferencia, "
    "transferencia bancaria",
    "card": "card, credit card, debit card, tarjeta, tarjeta de crédito",
    "cash": "cash, efectivo, contado, metálico",
    "cheque": "cheque, check, talón, pagaré",
    "direct_debit": "direct debit, domiciliación, domiciliación bancaria, recibo, "
    "recibo domiciliado",
    "other": "other, otro, otros",
}
_METHOD_OF = _words(METHOD_WORDS)

_STATUS_OF = _words(
    {
        ClientStatus.ACTIVE: "active, activo, activa, alta",
        ClientStatus.INACTIVE: "inactive, inactivo, inactiva, baja",
        ClientStatus.PROSPECT: "prospect, prospecto, potencial, lead",
    }
)

# Paid, pending and overdue are derived from payments and due dates, so a file
# that says so holds an issued invoice.
_STATE_OF = _words(
    {
        InvoiceState.ISSUED: "issued, emitida, emitido, paid, pagada, cobrada, "
        "pending, pendiente, overdue, vencida",
        InvoiceState.VOID: "void, voided, cancelled, anulada, anulado, cancelada, "
        "rectificada",
    }
)

_KIND_OF = _words(
    {
        LineKind.HOURS: "hours, hour, h, horas, hora",
        LineKind.PRODUCT: "product, products, producto, productos, artículo",
        LineKind.SERVICE: "service, services, servicio, servicios",
    }
)


@dataclass(frozen=True)
class Column:
    """A column of an import file: its documented header and accepted aliases.

    ``aliases`` is one comma-separated string; headers compare without case,
    accents or punctuation, so "Fecha de emisión" matches "fecha_de_emision".
    """

    field: str
    label: str
    aliases_text: str = ""
    required: bool = False
    max_length: int | None = None
    multiline: bool = False

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.aliases_text.split(",") if a.strip())


C = Column
COLUMNS: dict[str, tuple[Column, ...]] = {
    "clients": (
        C(
            "external_id",
            "external id",
            "client id, id, id externo, id cliente, código, código cliente",
            required=True,
            max_length=100,
        ),
        C(
            "name",
            "name",
            "client name, nombre, nombre del cliente, cliente",
            required=True,
            max_length=200,
        ),
        C("company", "company", "empresa, razón social, compañía", max_length=200),
        C("email", "email", "e-mail, correo, correo electrónico", max_length=254),
        C("phone", "phone", "teléfono, tel, móvil, celular", max_length=50),
        C("website", "website", "web, sitio web, página web", max_length=300),
        C(
            "address",
            "address",
            "dirección, domicilio",
            max_length=500,
            multiline=True,
        ),
        C(
            "tax_id",
            "tax id",
            "vat number, nif, cif, nif/cif, rfc, cuit, rut, id fiscal",
            max_length=100,
        ),
        C(
            "billing_address",
            "billing address",
            "dirección de facturación, dirección fiscal, domicilio fiscal",
            max_length=1000,
            multiline=True,
        ),
        C(
            "bank_details",
            "bank details",
            "iban, datos bancarios, cuenta bancaria, clabe",
            max_length=1000,
            multiline=True,
        ),
        C(
            "billing_notes",
            "billing notes",
            "notas de facturación",
            max_length=2000,
            multiline=True,
        ),
        C("region", "region", "región, zona", max_length=32),
        C("status", "status", "estado"),
    ),
    "invoices": (
        C(
            "invoice_id",
            "invoice external id",
            "invoice id, external id, id factura, id externo",
            required=True,
            max_length=100,
        ),
        C(
            "number",
            "number",
            "invoice number, número, número de factura, nº factura",
            required=True,
            max_length=64,
        ),
        C(
            "client_id",
            "client external id",
            "client id, client, id cliente, cliente, código cliente",
            required=True,
            max_length=100,
        ),
        C(
            "issue_date",
            "issue date",
            "date, invoice date, fecha, fecha de emisión, fecha factura",
            required=True,
        ),
        C("due_date", "due date", "fecha de vencimiento, vencimiento"),
        C("currency", "currency", "moneda, divisa"),
        C("state", "state", "status, estado"),
        C("kind", "line kind", "kind, type, tipo, tipo de línea"),
        C(
            "description",
            "description",
            "concept, descripción, concepto, detalle",
            required=True,
            max_length=MAX_DESCRIPTION,
        ),
        C("quantity", "quantity", "qty, hours, cantidad, unidades, horas"),
        C(
            "unit_price",
            "unit price",
            "price, rate, precio, precio unitario, tarifa",
            required=True,
        ),
        C("taxes", "tax rates", "taxes, tax, impuestos"),
        C(
            "line_discount",
            "line discount %",
            "line discount, discount %, descuento línea, descuento línea %, dto %",
        ),
        C("invoice_discount", "invoice discount", "descuento factura"),
        C("total", "stated total", "total, invoice total, total factura"),
    ),
    "payments": (
        C(
            "payment_id",
            "payment external id",
            "payment id, external id, id pago, id cobro",
            max_length=100,
        ),
        C(
            "invoice_id",
            "invoice external id",
            "invoice id, invoice, id factura, factura",
            required=True,
        ),
        C(
            "date",
            "date",
            "payment date, paid on, fecha, fecha de pago, fecha de cobro",
            required=True,
        ),
        C("amount", "amount", "importe, monto, importe cobrado", required=True),
        C("method", "method", "payment method, método, forma de pago, medio de pago"),
        C("reference", "reference", "referencia, ref", max_length=MAX_REFERENCE),
    ),
}
del C

#: Folded header text → field, per kind of file.
_HEADER_OF = {
    kind: {fold(name): col.field for col in cols for name in (col.label, *col.aliases)}
    for kind, cols in COLUMNS.items()
}

_INVOICE_HEAD_FIELDS = (
    "number",
    "client_id",
    "issue_date",
    "due_date",
    "currency",
    "state",
    "invoice_discount",
    "total",
)


class Progress(Protocol):
    """Told how far a long step has come; the command line draws a bar."""

    def begin(self, label: str, total: int) -> None: ...

    def advance(self, steps: int) -> None: ...

    def end(self) -> None: ...


class NoProgress:
    def begin(self, label: str, total: int) -> None:
        pass

    def advance(self, steps: int) -> None:
        pass

    def end(self) -> None:
        pass


class ImportConflict(RuntimeError):
    """Rows of the plan were written by someone else between check and import."""


@dataclass(frozen=True)
class Upload:
    """One file given to the import: its kind, the name it had, its bytes."""

    kind: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class Problem:
    """Something wrong in the files; ``line`` 0 means the file as a whole."""

    file: str
    line: int
    column: str
    message: str


@dataclass(frozen=True)
class FileInfo:
    kind: str
    filename: str
    encoding: str
    delimiter: str
    rows: int


@dataclass
class NewLine:
    kind: str
    description: str
    quantity: Decimal
    unit_price_minor: int
    discount_percent: Decimal
    rate_ids: tuple[int, ...]
    net_minor: int = 0


@dataclass
class NewInvoice:
    external_id: str
    number: str
    client_external_id: str
    state: str
    issue_date: date
    due_date: date
    discount_minor: int
    lines: list[NewLine]
    breakdown: totals.Breakdown
    line: int  # where the invoice starts in its file


@dataclass
class NewPayment:
    external_id: str
    invoice_external_id: str
    paid_on: date
    amount_minor: int
    method: str
    reference: str


@dataclass
class Plan:
    """What an import would do to a workspace, and why it may not."""

    workspace_id: int
    currency: str
    files: list[FileInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[NewInvoice] = field(default_factory=list)
    payments: list[NewPayment] = field(default_factory=list)
    skipped: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(FILE_KINDS, 0)
    )
    # Existing rows the new ones refer to, by external id.
    client_ids: dict[str, int] = field(default_factory=dict)
    client_names: dict[str, str] = field(default_factory=dict)
    invoice_ids: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def empty(self) -> bool:
        """Whether there is nothing new to write."""
        return not (self.clients or self.invoices or self.payments)

    @property
    def line_count(self) -> int:
        return sum(len(invoice.lines) for invoice in self.invoices)

    def counts(self) -> dict[str, int]:
        return {
            "clients": len(self.clients),
            "invoices": len(self.invoices),
            "lines": self.line_count,
            "payments": len(self.payments),
        }

    def preview(self) -> dict[str, list[dict[str, Any]]]:
        """The first rows of each kind as they would be created."""
        numbers = {i.external_id: i.number for i in self.invoices}
        return {
            "clients": [
                {
                    "external_id": c["external_id"],
                    "name": c["name"],
                    "company": c["company"],
                    "status": c["status"],
                }
                for c in self.clients[:PREVIEW_ROWS]
            ],
            "invoices": [
                {
                    "number": i.number,
                    "client": self.client_names.get(i.client_external_id, ""),
                    "issue_date": i.issue_date,
                    "due_date": i.due_date,
                    "state": i.state,
                    "lines": len(i.lines),
                    "total_minor": i.breakdown.total_minor,
                }
                for i in self.invoices[:PREVIEW_ROWS]
            ],
            "payments": [
                {
                    "invoice": numbers.get(
                        p.invoice_external_id, p.invoice_external_id
                    ),
                    "paid_on": p.paid_on,
                    "amount_minor": p.amount_minor,
                    "method": p.method,
                }
                for p in self.payments[:PREVIEW_ROWS]
            ],
        }

    def skipped_messages(self) -> list[str]:
        """ "12 clients already imported, skipped", for each kind that has some."""
        texts = {
            "clients": lambda n: ngettext(
                "%(num)d client already imported, skipped",
                "%(num)d clients already imported, skipped",
                n,
            ),
            "invoices": lambda n: ngettext(
                "%(num)d invoice already imported, skipped",
                "%(num)d invoices already imported, skipped",
                n,
            ),
            "payments": lambda n: ngettext(
                "%(num)d payment already imported, skipped",
                "%(num)d payments already imported, skipped",
                n,
            ),
        }
        return [texts[k](n) for k, n in self.skipped.items() if n]


@dataclass(frozen=True)
class Summary:
    """What an import wrote."""

    clients: int
    invoices: int
    lines: int
    payments: int
    skipped: dict[str, int]

    def message(self) -> str:
        return _(
            "Imported %(clients)d clients, %(invoices)d invoices with %(lines)d "
            "lines, and %(payments)d payments.",
            clients=self.clients,
            invoices=self.invoices,
            lines=self.lines,
            payments=self.payments,
        )


# -- reading ---------------------------------------------------------------


class _Sheet:
    """One file being checked: its rows, where each column is, its problems."""

    def __init__(self, kind: str, filename: str, table: Table, plan: Plan) -> None:
        self.kind = kind
        self.filename = filename
        self.table = table
        self.plan = plan
        self.columns = {c.field: c for c in COLUMNS[kind]}
        self.index: dict[str, int] = {}
        self.width = len(table.headers)
        self.rows = self._normalised(table.rows)

        known = _HEADER_OF[kind]
        for position, header in enumerate(table.headers):
            key = fold(header)
            if not key:
                continue
            name = known.get(key)
            if name is None:
                plan.notices.append(
                    _(
                        "%(file)s: the column “%(column)s” is not used.",
                        file=filename,
                        column=header.strip(),
                    )
                )
            elif name in self.index:
                self.problem(
                    table.header_line,
                    name,
                    _(
                        "Two columns mean “%(label)s”: “%(first)s” and “%(second)s”.",
                        label=self.columns[name].label,
                        first=table.headers[self.index[name]].strip(),
                        second=header.strip(),
                    ),
                    position=position,
                )
            else:
                self.index[name] = position
        for column in COLUMNS[kind]:
            if column.required and column.field not in self.index:
                self.problem(
                    table.header_line,
                    column.field,
                    _(
                        "The file has no “%(label)s” column (the header may also "
                        "be written as %(aliases)s).",
                        label=column.label,
                        aliases=", ".join(f"“{a}”" for a in column.aliases[:3]),
                    ),
                )

    @property
    def usable(self) -> bool:
        return all(c.field in self.index for c in COLUMNS[self.kind] if c.required)

    def get(self, cells: list[str], name: str) -> str:
        position = self.index.get(name)
        return "" if position is None else cells[position]

    def text(self, line: int, cells: list[str], name: str) -> str:
        """A text cell, reported when too long or holding control characters."""
        return self.checked(line, name, self.get(cells, name))

    def checked(self, line: int, name: str, value: str) -> str:
        """``value`` of the column ``name``, its length and characters checked."""
        column = self.columns[name]
        if column.max_length is not None and len(value) > column.max_length:
            self.problem(
                line,
                name,
                _("Longer than %(max)d characters.", max=column.max_length),
            )
        forbidden = _CONTROL_MULTILINE if column.multiline else _CONTROL
        if forbidden.search(value):
            self.problem(
                line,
                name,
                _("Holds a control character or a line break it may not have."),
            )
        return value

    def column_name(self, name: str, position: int | None = None) -> str:
        if position is None:
            position = self.index.get(name)
        if position is not None:
            header = self.table.headers[position].strip()
            return f"{header} ({_letter(position)})"
        return self.columns[name].label

    def problem(
        self, line: int, name: str, message: str, *, position: int | None = None
    ) -> None:
        self.plan.problems.append(
            Problem(self.filename, line, self.column_name(name, position), message)
        )

    def _normalised(
        self, rows: list[tuple[int, list[str]]]
    ) -> list[tuple[int, list[str]]]:
        """Every row stripped and padded to the header's width, once."""
        width = self.width
        normalised = []
        for line, cells in rows:
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                self.plan.problems.append(
                    Problem(
                        self.filename,
                        line,
                        _letter(width),
                        _(
                            "This row has more cells than the header has "
                            "columns; is a value with the separator in it "
                            "missing its quotes?"
                        ),
                    )
                )
            cells = [cell.strip() for cell in cells[:width]]
            cells.extend([""] * (width - len(cells)))
            normalised.append((line, cells))
        return normalised


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Multi-line fields keep their line breaks and tabs.
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _letter(position: int) -> str:
    """The spreadsheet letter of a column: 0 → A, 26 → AA."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# -- checking --------------------------------------------------------------


def check(
    session: Session,
    workspace: Any,
    uploads: Sequence[Upload],
    *,
    decimal: str | None = None,
    locale: str = "en",
    progress: Progress | None = None,
) -> Plan:
    """Read ``uploads`` and plan their import into ``workspace``; write nothing.

    ``decimal`` (``","`` or ``"."``) settles numbers such as "1.500" that the
    two conventions read differently; without it they are problems.
    """
    progress = progress or NoProgress()
    plan = Plan(workspace_id=workspace.id, currency=workspace.currency.upper())
    checker = _Checker(session, workspace, plan, decimal, locale, progress)

    sheets: dict[str, _Sheet] = {}
    for upload in uploads:
        if upload.kind not in FILE_KINDS:
            raise ValueError(f"unknown import file kind {upload.kind!r}")
        if upload.kind in sheets:
            raise ValueError(f"two {upload.kind} files")
        sheet = checker.read(upload)
        if sheet is not None:
            sheets[upload.kind] = sheet

    # References into a file that could not be read are not reported one by
    # one: the file's own problem says it all.
    given = {upload.kind for upload in uploads}
    checker.unread = {k for k in given if k not in sheets or not sheets[k].usable}
    total = sum(len(s.rows) for s in sheets.values() if s.usable)
    progress.begin(_("Checking"), total)
    checker.load_workspace()
    if "clients" in sheets and sheets["clients"].usable:
        checker.clients(sheets["clients"])
    if "invoices" in sheets and sheets["invoices"].usable:
        checker.invoices(sheets["invoices"])
    if "payments" in sheets and sheets["payments"].usable:
        checker.payments(sheets["payments"])
    progress.end()
    return plan


@dataclass
class _Head:
    """An invoice's own values, the line each was read on, which were given."""

    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    given: set[str] = field(default_factory=set)

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)


class _Checker:
    def __init__(
        self,
        session: Session,
        workspace: Any,
        plan: Plan,
        decimal: str | None,
        locale: str,
        progress: Progress,
    ) -> None:
        self.session = session
        self.workspace = workspace
        self.plan = plan
        self.decimal = decimal
        self.locale = locale
        self.progress = progress
        self.exponent = exponent(plan.currency)
        self.today = clock.today_in(workspace)
        self._dates: dict[str, date] = {}
        self._rate_cells: dict[str, tuple[int, ...]] = {}
        # What the files define, by external id.
        self.file_clients: set[str] = set()
        # (first line, state, total) of each invoice of the file
        self.file_invoices: dict[str, tuple[int, str, int]] = {}
        self.bad_invoices: set[str] = set()
        self.unread: set[str] = set()

    # files

    def read(self, upload: Upload) -> _Sheet | None:
        known = _HEADER_OF[upload.kind]
        try:
            table = read_table(upload.data, lambda cells: _score(cells, known))
        except ReadError as exc:
            self.plan.problems.append(Problem(upload.filename, 0, "", str(exc)))
            return None
        self.plan.files.append(
            FileInfo(
                upload.kind,
                upload.filename,
                table.encoding,
                table.delimiter,
                len(table.rows),
            )
        )
        return _Sheet(upload.kind, upload.filename, table, self.plan)

    def load_workspace(self) -> None:
        """What the workspace already holds that the files may refer to."""
        ws = self.workspace.id
        session = self.session
        self.clients_in_db = {
            ext: (cid, name)
            for ext, cid, name in session.execute(
                select(Client.external_id, Client.id, Client.name).where(
                    Client.workspace_id == ws, Client.external_id.is_not(None)
                )
            )
        }
        self.invoices_in_db = {
            row.external_id: row
            for row in session.execute(
                select(
                    Invoice.external_id,
                    Invoice.id,
                    Invoice.number,
                    Invoice.state,
                    Invoice.total_minor,
                ).where(Invoice.workspace_id == ws, Invoice.external_id.is_not(None))
            )
        }
        self.import_numbers = dict(
            session.execute(
                select(Invoice.number, Invoice.external_id).where(
                    Invoice.workspace_id == ws, Invoice.series == IMPORT_SERIES
                )
            ).all()
        )
        self.payments_in_db = set(
            session.scalars(
                select(Payment.external_id).where(
                    Payment.workspace_id == ws, Payment.external_id.is_not(None)
                )
            )
        )
        self.paid_in_db = dict(
            session.execute(
                select(Payment.invoice_id, func.sum(Payment.amount_minor))
                .where(Payment.workspace_id == ws)
                .group_by(Payment.invoice_id)
            ).all()
        )
        settings = session.get(Settings, ws)
        self.payment_terms_days = settings.payment_terms_days if settings else 30
        self.rates: dict[str, list[TaxRate]] = {}
        for rate in session.scalars(
            select(TaxRate).where(TaxRate.workspace_id == ws).order_by(TaxRate.id)
        ):
            self.rates.setdefault(_rate_key(rate.name), []).append(rate)
        self.plan.client_ids = {ext: v[0] for ext, v in self.clients_in_db.items()}
        self.plan.client_names = {ext: v[1] for ext, v in self.clients_in_db.items()}
        self.plan.invoice_ids = {
            ext: row.id for ext, row in self.invoices_in_db.items()
        }

    # values

    def number(self, sheet: _Sheet, line: int, name: str, raw: str) -> Decimal | None:
        try:
            return parse_number(raw, self.decimal)
        except ReadError as exc:  # ambiguous values too
            sheet.problem(line, name, str(exc))
        return None

    def amount(self, sheet: _Sheet, line: int, name: str, raw: str) -> int | None:
        """An amount in the workspace currency's minor unit."""
        value = self.number(sheet, line, name, raw)
        if value is None:
            return None
        scaled = value.scaleb(self.exponent)
        if scaled != scaled.to_integral_value():
            sheet.problem(
                line,
                name,
                _(
                    "“%(value)s” has more decimals than %(currency)s amounts have "
                    "(%(digits)d).",
                    value=raw,
                    currency=self.plan.currency,
                    digits=self.exponent,
                ),
            )
            return None
        minor = int(scaled)
        if abs(minor) > MAX_MINOR:
            sheet.problem(line, name, _("“%(value)s” is too large.", value=raw))
            return None
        return minor

    def date(self, sheet: _Sheet, line: int, name: str, raw: str) -> date | None:
        """A date of history: ClientFlow's range, and not later than today."""
        value = self._dates.get(raw)
        if value is None:
            try:
                value = parse_date(raw)
            except ReadError as exc:
                sheet.problem(line, name, str(exc))
                return None
            self._dates[raw] = value
        if not FIRST_DATE <= value <= LAST_DATE:
            sheet.problem(
                line,
                name,
                _(
                    "%(date)s is outside the dates ClientFlow accepts "
                    "(%(first)s to %(last)s).",
                    date=value.isoformat(),
                    first=FIRST_DATE.isoformat(),
                    last=LAST_DATE.isoformat(),
                ),
            )
            return None
        if value > self.today and name != "due_date":
            sheet.problem(
                line,
                name,
                _(
                    "%(date)s is later than today; history cannot be in the future.",
                    date=value.isoformat(),
                ),
            )
            return None
        return value

    def money(self, minor: int) -> str:
        return format_money(minor, self.plan.currency, self.locale)

    # clients

    def clients(self, sheet: _Sheet) -> None:
        plan = self.plan
        seen: dict[str, int] = {}
        for line, cells in sheet.rows:
            self.progress.advance(1)
            before = len(plan.problems)
            ext = sheet.text(line, cells, "external_id")
            name = sheet.text(line, cells, "name")
            if not ext:
                sheet.problem(line, "external_id", _("Required; the cell is empty."))
            elif ext in seen:
                sheet.problem(
                    line,
                    "external_id",
                    _(
                        "“%(id)s” is also on line %(line)d.",
                        id=ext,
                        line=seen[ext],
                    ),
                )
            else:
                seen[ext] = line
                self.file_clients.add(ext)
            if not name:
                sheet.problem(line, "name", _("Required; the cell is empty."))
            row = {
                "workspace_id": plan.workspace_id,
                "external_id": ext,
                "name": name,
                "company": sheet.text(line, cells, "company"),
                "email": self.email(sheet, line, cells),
                "phone": sheet.text(line, cells, "phone"),
                "website": sheet.text(line, cells, "website"),
                "address": sheet.text(line, cells, "address"),
                "region": sheet.text(line, cells, "region"),
                "status": self.client_status(sheet, line, cells),
                "tax_id": sheet.text(line, cells, "tax_id") or None,
                "billing_address": sheet.text(line, cells, "billing_address") or None,
                "bank_details": sheet.text(line, cells, "bank_details") or None,
                "billing_notes": sheet.text(line, cells, "billing_notes") or None,
            }
            if len(plan.problems) > before or not ext:
                continue
            if ext in self.clients_in_db:
                plan.skipped["clients"] += 1
                continue
            plan.client_names[ext] = name
            plan.clients.append(row)

    def email(self, sheet: _Sheet, line: int, cells: list[str]) -> str:
        value = sheet.text(line, cells, "email")
        if value and ("@" not in value or any(c.isspace() for c in value)):
            sheet.problem(
                line, "email", _("“%(value)s” is not an email address.", value=value)
            )
        return value

    def client_status(self, sheet: _Sheet, line: int, cells: list[str]) -> str:
        value = sheet.get(cells, "status")
        if not value:
            return ClientStatus.ACTIVE.value
        status = _STATUS_OF.get(fold(value))
        if status is None:
            sheet.problem(
                line,
                "status",
                _(
                    "“%(value)s” is not a status; use active, inactive or "
                    "prospect (activo, inactivo, prospecto).",
                    value=value,
                ),
            )
            return ClientStatus.ACTIVE.value
        return status.value

    # invoices

    def invoices(self, sheet: _Sheet) -> None:
        groups: dict[str, list[tuple[int, list[str]]]] = {}
        for line, cells in sheet.rows:
            ext = sheet.text(line, cells, "invoice_id")
            if not ext:
                sheet.problem(line, "invoice_id", _("Required; the cell is empty."))
                continue
            groups.setdefault(ext, []).append((line, cells))

        numbers: dict[str, tuple[str, int]] = {}
        for ext, rows in groups.items():
            before = len(self.plan.problems)
            invoice = self.invoice(sheet, ext, rows, numbers)
            self.progress.advance(len(rows))
            if invoice is None or len(self.plan.problems) > before:
                self.bad_invoices.add(ext)
                continue
            self.file_invoices[ext] = (
                invoice.line,
                invoice.state,
                invoice.breakdown.total_minor,
            )
            if ext in self.invoices_in_db:
                self.plan.skipped["invoices"] += 1
                continue
            self.plan.invoices.append(invoice)

    def invoice(
        self,
        sheet: _Sheet,
        ext: str,
        rows: list[tuple[int, list[str]]],
        numbers: dict[str, tuple[str, int]],
    ) -> NewInvoice | None:
        head = self.invoice_head(sheet, ext, rows)
        first_line = rows[0][0]
        for name in ("number", "client_id", "issue_date"):
            if name not in head.given:
                sheet.problem(first_line, name, _("Required; the cell is empty."))
        number, client, issued = head["number"], head["client_id"], head["issue_date"]

        if number is not None:
            line = head.lines["number"]
            other = numbers.get(number)
            if other is not None and other[0] != ext:
                sheet.problem(
                    line,
                    "number",
                    _(
                        "Number %(number)s is also used by invoice %(other)s on "
                        "line %(line)d.",
                        number=number,
                        other=other[0],
                        line=other[1],
                    ),
                )
            numbers.setdefault(number, (ext, line))
            earlier = self.import_numbers.get(number)
            if earlier is not None and earlier != ext:
                sheet.problem(
                    line,
                    "number",
                    _(
                        "Number %(number)s was imported before for invoice %(other)s.",
                        number=number,
                        other=earlier,
                    ),
                )
        if client is not None and not (
            client in self.file_clients
            or client in self.clients_in_db
            or "clients" in self.unread
        ):
            sheet.problem(
                head.lines["client_id"],
                "client_id",
                _(
                    "No client has the external id “%(id)s”, neither in the clients "
                    "file nor in this workspace.",
                    id=client,
                ),
            )
        currency = head["currency"]
        if currency is not None and currency != self.plan.currency:
            sheet.problem(
                head.lines["currency"],
                "currency",
                _(
                    "The invoice is in %(currency)s, the workspace in "
                    "%(workspace)s; ClientFlow keeps one currency per workspace.",
                    currency=currency,
                    workspace=self.plan.currency,
                ),
            )
        due = head["due_date"] or (
            issued + timedelta(days=self.payment_terms_days) if issued else None
        )
        if issued is not None and due is not None and due < issued:
            sheet.problem(
                head.lines["due_date"],
                "due_date",
                _("The due date is before the issue date."),
            )

        if len(rows) > MAX_LINES:
            sheet.problem(
                rows[MAX_LINES][0],
                "invoice_id",
                _(
                    "Invoice %(id)s has %(count)d lines; an invoice has at most "
                    "%(max)d.",
                    id=ext,
                    count=len(rows),
                    max=MAX_LINES,
                ),
            )
        lines = [self.invoice_line(sheet, line, cells) for line, cells in rows]
        if any(x is None for x in lines) or None in (number, client, issued):
            return None
        discount = head["invoice_discount"] or 0
        inputs = [
            totals.LineInput(
                quantity=x.quantity,
                unit_price_minor=x.unit_price_minor,
                discount_percent=x.discount_percent,
                rates=tuple(self.rate_inputs[r] for r in x.rate_ids),
            )
            for x in lines  # type: ignore[union-attr]
        ]
        try:
            breakdown = totals.compute(inputs, discount)
        except MoneyError:
            self.untotalled(sheet, head, first_line, inputs, discount)
            return None
        stated = head["total"]
        if stated is not None and stated != breakdown.total_minor:
            sheet.problem(
                head.lines["total"],
                "total",
                _(
                    "The file states a total of %(stated)s, but ClientFlow's rules "
                    "give %(total)s (lines %(net)s, discount %(discount)s, tax "
                    "%(tax)s).",
                    stated=self.money(stated),
                    total=self.money(breakdown.total_minor),
                    net=self.money(breakdown.lines_net_minor),
                    discount=self.money(breakdown.discount_minor),
                    tax=self.money(breakdown.tax_minor),
                ),
            )
        for new, result in zip(lines, breakdown.lines, strict=True):
            new.net_minor = result.net_minor
        return NewInvoice(
            external_id=ext,
            number=number,
            client_external_id=client,
            state=head["state"] or InvoiceState.ISSUED.value,
            issue_date=issued,
            due_date=due,
            discount_minor=discount,
            lines=lines,  # type: ignore[arg-type]
            breakdown=breakdown,
            line=first_line,
        )

    def untotalled(
        self,
        sheet: _Sheet,
        head: _Head,
        first_line: int,
        inputs: list[totals.LineInput],
        discount: int,
    ) -> None:
        """Report why ClientFlow's rules cannot total an invoice."""
        try:
            lines_net = totals.compute(inputs).lines_net_minor
        except MoneyError:
            lines_net = None
        if discount and lines_net is not None:
            sheet.problem(
                head.lines["invoice_discount"],
                "invoice_discount",
                _(
                    "The invoice discount %(discount)s is larger than the lines' "
                    "net amount %(net)s.",
                    discount=self.money(discount),
                    net=self.money(lines_net),
                ),
            )
        else:
            sheet.problem(
                first_line, "unit_price", _("The invoice total is too large.")
            )

    def invoice_head(
        self, sheet: _Sheet, ext: str, rows: list[tuple[int, list[str]]]
    ) -> _Head:
        """The invoice-wide values, which every row may repeat but not contradict."""
        head = _Head()
        for name in _INVOICE_HEAD_FIELDS:
            value, where, first_raw = None, None, ""
            for line, cells in rows:
                raw = sheet.get(cells, name)
                if not raw:
                    continue
                head.given.add(name)
                if where is not None and raw == first_raw:
                    continue
                parsed = self.head_value(sheet, line, name, raw)
                if parsed is None:
                    break
                if where is None:
                    value, where, first_raw = parsed, line, raw
                elif parsed != value:
                    sheet.problem(
                        line,
                        name,
                        _(
                            "Invoice %(id)s says “%(value)s” here but something "
                            "else on line %(line)d.",
                            id=ext,
                            value=raw,
                            line=where,
                        ),
                    )
                    break
            head.values[name] = value
            head.lines[name] = where or rows[0][0]
        return head

    def head_value(self, sheet: _Sheet, line: int, name: str, raw: str) -> Any:
        if name in ("number", "client_id"):
            before = len(self.plan.problems)
            value = sheet.checked(line, name, raw)
            return value if len(self.plan.problems) == before else None
        if name in ("issue_date", "due_date"):
            return self.date(sheet, line, name, raw)
        if name == "currency":
            return raw.upper()
        if name == "state":
            state = _STATE_OF.get(fold(raw))
            if state is None:
                sheet.problem(
                    line,
                    name,
                    _(
                        "“%(value)s” is not an invoice state; use issued or void "
                        "(emitida, anulada).",
                        value=raw,
                    ),
                )
                return None
            return state.value
        minor = self.amount(sheet, line, name, raw)
        if minor is not None and minor < 0:
            sheet.problem(line, name, _("Cannot be negative."))
            return None
        return minor

    def invoice_line(
        self, sheet: _Sheet, line: int, cells: list[str]
    ) -> NewLine | None:
        before = len(self.plan.problems)
        raw_kind = sheet.get(cells, "kind")
        kind = _KIND_OF.get(fold(raw_kind)) if raw_kind else LineKind.SERVICE
        if kind is None:
            sheet.problem(
                line,
                "kind",
                _(
                    "“%(value)s” is not a line kind; use hours, product or service "
                    "(horas, producto, servicio).",
                    value=raw_kind,
                ),
            )
        description = sheet.text(line, cells, "description")
        if not description:
            sheet.problem(line, "description", _("Required; the cell is empty."))

        raw_quantity = sheet.get(cells, "quantity")
        quantity = (
            self.number(sheet, line, "quantity", raw_quantity)
            if raw_quantity
            else Decimal(1)
        )
        if quantity is not None and not (
            0 < quantity <= MAX_QUANTITY and quantity == quantity.quantize(QUANTUM)
        ):
            sheet.problem(
                line,
                "quantity",
                _(
                    "A quantity is more than zero, at most %(max)s, with at most "
                    "%(places)d decimals.",
                    max=format_decimal(MAX_QUANTITY, locale=self.locale),
                    places=QUANTITY_PLACES,
                ),
            )

        raw_price = sheet.get(cells, "unit_price")
        price = None
        if not raw_price:
            sheet.problem(line, "unit_price", _("Required; the cell is empty."))
        else:
            price = self.amount(sheet, line, "unit_price", raw_price)
            if price is not None and price < 0:
                sheet.problem(line, "unit_price", _("Cannot be negative."))

        raw_discount = sheet.get(cells, "line_discount").rstrip("%").strip()
        discount = Decimal(0)
        if raw_discount:
            discount = self.number(sheet, line, "line_discount", raw_discount)
            if discount is not None and (
                not Decimal(0) <= discount <= Decimal(100)
                or discount != discount.quantize(QUANTUM)
            ):
                sheet.problem(
                    line,
                    "line_discount",
                    _("A line discount is a percentage from 0 to 100."),
                )

        rate_ids = self.line_rates(sheet, line, sheet.get(cells, "taxes"))
        if len(self.plan.problems) > before:
            return None
        return NewLine(
            kind=kind.value,  # type: ignore[union-attr]
            description=description,
            quantity=quantity,  # type: ignore[arg-type]
            unit_price_minor=price,  # type: ignore[arg-type]
            discount_percent=discount,  # type: ignore[arg-type]
            rate_ids=rate_ids,
        )

    @property
    def rate_inputs(self) -> dict[int, totals.Rate]:
        if not hasattr(self, "_rate_inputs"):
            self._rate_inputs = {
                rate.id: totals.Rate(rate.id, rate.name, Decimal(rate.rate))
                for rates in self.rates.values()
                for rate in rates
            }
        return self._rate_inputs

    def line_rates(self, sheet: _Sheet, line: int, raw: str) -> tuple[int, ...]:
        if not raw:
            return ()
        known = self._rate_cells.get(raw)
        if known is not None:
            return known
        before = len(self.plan.problems)
        names = [raw]
        for separator in TAX_SEPARATORS:
            names = [part for name in names for part in name.split(separator)]
        ids: list[int] = []
        for name in (n.strip() for n in names):
            if not name:
                continue
            rate = self.rate_named(sheet, line, name)
            if rate is not None and rate.id not in ids:
                ids.append(rate.id)
        if len(self.plan.problems) == before:
            # Only a clean cell is remembered, so each bad one is reported.
            self._rate_cells[raw] = tuple(ids)
        return tuple(ids)

    def rate_named(self, sheet: _Sheet, line: int, name: str) -> TaxRate | None:
        found = self.rates.get(_rate_key(name), [])
        active = [r for r in found if not r.archived] or found
        if len(active) == 1:
            return active[0]
        if not active:
            known = sorted({r.name for rates in self.rates.values() for r in rates})
            sheet.problem(
                line,
                "taxes",
                _(
                    "This workspace has no tax rate named “%(name)s” (it has: "
                    "%(known)s). Add it in the settings, or rename it in the file.",
                    name=name,
                    known=", ".join(known) or "—",
                ),
            )
        else:
            sheet.problem(
                line,
                "taxes",
                _(
                    "Several tax rates of this workspace are named “%(name)s”; "
                    "give them different names first.",
                    name=name,
                ),
            )
        return None

    # payments

    def payments(self, sheet: _Sheet) -> None:
        plan = self.plan
        paid: dict[str, int] = {}
        seen: dict[str, int] = {}
        repeats: dict[tuple[str, date, int], int] = {}
        methods_unknown: set[str] = set()
        for line, cells in sheet.rows:
            self.progress.advance(1)
            before = len(plan.problems)
            invoice_ext = sheet.get(cells, "invoice_id")
            raw_date, raw_amount = sheet.get(cells, "date"), sheet.get(cells, "amount")
            for name, raw in (
                ("invoice_id", invoice_ext),
                ("date", raw_date),
                ("amount", raw_amount),
            ):
                if not raw:
                    sheet.problem(line, name, _("Required; the cell is empty."))
            paid_on = self.date(sheet, line, "date", raw_date) if raw_date else None
            amount = (
                self.amount(sheet, line, "amount", raw_amount) if raw_amount else None
            )
            if amount is not None and amount <= 0:
                sheet.problem(line, "amount", _("A payment is more than zero."))
            method = self.payment_method(sheet.get(cells, "method"), methods_unknown)
            reference = sheet.text(line, cells, "reference")
            ext = sheet.text(line, cells, "payment_id")

            target = (
                self.payment_target(sheet, line, invoice_ext) if invoice_ext else None
            )
            if len(plan.problems) > before or target is None:
                continue
            if not ext:
                key = (invoice_ext, paid_on, amount)
                repeats[key] = repeats.get(key, 0) + 1
                ext = _derived_payment_id(invoice_ext, paid_on, amount, repeats[key])
            elif ext in seen:
                sheet.problem(
                    line,
                    "payment_id",
                    _("“%(id)s” is also on line %(line)d.", id=ext, line=seen[ext]),
                )
                continue
            seen[ext] = line
            if ext in self.payments_in_db:
                plan.skipped["payments"] += 1
                continue

            state, total, already = target
            if state != InvoiceState.ISSUED:
                message = (
                    _("Invoice %(id)s is void; it takes no payments.", id=invoice_ext)
                    if state == InvoiceState.VOID
                    else _(
                        "Invoice %(id)s is a draft; only issued invoices take "
                        "payments.",
                        id=invoice_ext,
                    )
                )
                sheet.problem(line, "invoice_id", message)
                continue
            paid[invoice_ext] = paid.get(invoice_ext, already) + amount
            if paid[invoice_ext] > total:
                sheet.problem(
                    line,
                    "amount",
                    _(
                        "With this payment invoice %(id)s is paid %(paid)s, more "
                        "than its total of %(total)s.",
                        id=invoice_ext,
                        paid=self.money(paid[invoice_ext]),
                        total=self.money(total),
                    ),
                )
                continue
            plan.payments.append(
                NewPayment(ext, invoice_ext, paid_on, amount, method, reference)
            )
        for value in sorted(methods_unknown):
            plan.notices.append(
                _(
                    "%(file)s: the payment method “%(value)s” is recorded as “other”.",
                    file=sheet.filename,
                    value=value,
                )
            )

    def payment_target(
        self, sheet: _Sheet, line: int, ext: str
    ) -> tuple[str, int, int] | None:
        """(state, total, already paid) of the invoice a payment is for."""
        if ext in self.bad_invoices:
            return None  # its own problems are reported on the invoices file
        stored = self.invoices_in_db.get(ext)
        if stored is not None:
            return stored.state, stored.total_minor, self.paid_in_db.get(stored.id, 0)
        planned = self.file_invoices.get(ext)
        if planned is not None:
            return planned[1], planned[2], 0
        if "invoices" in self.unread:
            return None
        sheet.problem(
            line,
            "invoice_id",
            _(
                "No invoice has the external id “%(id)s”, neither in the invoices "
                "file nor in this workspace.",
                id=ext,
            ),
        )
        return None

    def payment_method(self, raw: str, unknown: set[str]) -> str:
        if not raw:
            return "transfer"
        method = _METHOD_OF.get(fold(raw))
        if method is None:
            unknown.add(raw)
            return "other"
        return method


def recognise(data: bytes) -> str | None:
    """Which kind of import file ``data`` is, judged by its header row.

    A kind whose required columns are all there wins over one that merely
    knows more of the headers; None when no header is known at all.
    """
    try:
        text, _encoding = decode(data)
    except ReadError:
        return None
    best, best_key = None, (False, 0)
    for kind in FILE_KINDS:
        known = _HEADER_OF[kind]
        cells = max(
            (_first_row(text, d) for d in DELIMITERS),
            key=lambda row: _score(row, known),
        )
        fields = {known[fold(c)] for c in cells if fold(c) in known}
        required = all(c.field in fields for c in COLUMNS[kind] if c.required)
        key = (required, len(fields))
        if key > best_key:
            best, best_key = kind, key
    return best


def _first_row(text: str, delimiter: str) -> list[str]:
    line = text.lstrip("\ufeff").split("\n", 1)[0]
    if line.startswith("sep="):
        line = text.split("\n", 2)[1] if text.count("\n") >= 1 else ""
    return next(csv.reader([line], delimiter=delimiter), [])


def _score(cells: list[str], known: dict[str, str]) -> int:
    return sum(1 for cell in cells if fold(cell) in known)


def _rate_key(name: str) -> str:
    """Tax rate names compare without case, accents or spaces ("IVA 21 %")."""
    return fold(name).replace(" ", "")


def _derived_payment_id(invoice_ext: str, paid_on: date, amount: int, nth: int) -> str:
    """A stable id for a payment row without one, so a second import skips it.

    The n-th identical payment (same invoice, date and amount) of a file gets
    the same id in every import of that file.
    """
    key = f"{invoice_ext}\x1f{paid_on.isoformat()}\x1f{amount}\x1f{nth}"
    return "row-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


# -- writing ---------------------------------------------------------------


def apply(
    session: Session,
    workspace: Any,
    plan: Plan,
    *,
    user_id: int | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Write ``plan`` in one transaction: all of it, or (on any error) nothing.

    Rows go in with multi-row inserts. A unique key broken meanwhile (another
    import of the same rows) rolls everything back and raises
    :class:`ImportConflict`.
    """
    if plan.problems:
        raise ValueError("a plan with problems cannot be imported")
    if plan.workspace_id != workspace.id:
        raise ValueError("the plan belongs to another workspace")
    progress = progress or NoProgress()
    counts = plan.counts()
    progress.begin(_("Importing"), sum(counts.values()))
    try:
        client_ids = dict(plan.client_ids)
        client_ids.update(_insert_clients(session, plan.clients, progress))
        invoice_ids = dict(plan.invoice_ids)
        invoice_ids.update(
            _insert_invoices(session, workspace, plan, client_ids, user_id, progress)
        )
        _insert_payments(session, plan, invoice_ids, user_id, progress)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        logger.warning("import into %s refused by a unique key", workspace.slug)
        raise ImportConflict(
            _(
                "Some of these rows were imported by someone else meanwhile; "
                "nothing was written. Check the files again."
            )
        ) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        progress.end()
    logger.info(
        "import into %s: %d clients, %d invoices, %d payments",
        workspace.slug,
        counts["clients"],
        counts["invoices"],
        counts["payments"],
    )
    return Summary(skipped=dict(plan.skipped), **counts)


def _chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _ids_by_external_id(
    session: Session, model, workspace_id: int, external_ids: Sequence[str]
) -> dict[str, int]:
    """The ids of rows just inserted, found by their external ids.

    Plain multi-row inserts and one look-up per chunk: SQLite returns no ids
    from a multi-row insert in a guaranteed order, and inserting row by row
    to learn them is ten times slower.
    """
    rows = session.execute(
        select(model.external_id, model.id).where(
            model.workspace_id == workspace_id,
            model.external_id.in_(list(external_ids)),
        )
    )
    return {ext: new_id for ext, new_id in rows}


def _insert_clients(
    session: Session, rows: list[dict[str, Any]], progress: Progress
) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(rows, LOOKUP_CHUNK):
        session.execute(insert(Client.__table__), list(chunk))
        ids.update(
            _ids_by_external_id(
                session,
                Client,
                chunk[0]["workspace_id"],
                [row["external_id"] for row in chunk],
            )
        )
        progress.advance(len(chunk))
    return ids


def _insert_invoices(
    session: Session,
    workspace: Any,
    plan: Plan,
    client_ids: dict[str, int],
    user_id: int | None,
    progress: Progress,
) -> dict[str, int]:
    zone = clock.zone(workspace)
    now = clock.now_utc()
    ids: dict[str, int] = {}
    for chunk in _chunks(plan.invoices, LOOKUP_CHUNK):
        rows = []
        for invoice in chunk:
            # History has no moment of issue; the start of its issue date
            # in the workspace's zone is the closest truthful one.
            issued_at = datetime.combine(invoice.issue_date, time.min, tzinfo=zone)
            void = invoice.state == InvoiceState.VOID
            rows.append(
                {
                    "workspace_id": plan.workspace_id,
                    "client_id": client_ids[invoice.client_external_id],
                    "state": invoice.state,
                    "number": invoice.number,
                    "series": IMPORT_SERIES,
                    "currency": plan.currency,
                    "issue_date": invoice.issue_date,
                    "due_date": invoice.due_date,
                    "discount_minor": invoice.discount_minor,
                    "subtotal_minor": invoice.breakdown.subtotal_minor,
                    "tax_minor": invoice.breakdown.tax_minor,
                    "total_minor": invoice.breakdown.total_minor,
                    "issued_at": issued_at,
                    "voided_at": now if void else None,
                    "void_reason": "void in the imported file" if void else "",
                    "external_id": invoice.external_id,
                }
            )
        session.execute(insert(Invoice.__table__), rows)
        chunk_ids = _ids_by_external_id(
            session, Invoice, plan.workspace_id, [i.external_id for i in chunk]
        )
        ids.update(chunk_ids)
        _insert_lines(session, chunk, chunk_ids)
        taxes = [
            {
                "invoice_id": chunk_ids[invoice.external_id],
                "tax_rate_id": tax.rate.key,
                "name": tax.rate.name,
                "rate": tax.rate.percent,
                "base_minor": tax.base_minor,
                "amount_minor": tax.amount_minor,
            }
            for invoice in chunk
            for tax in invoice.breakdown.taxes
        ]
        if taxes:
            session.execute(insert(InvoiceTax.__table__), taxes)
        session.execute(
            insert(AuditEvent.__table__),
            [
                {
                    "workspace_id": plan.workspace_id,
                    "invoice_id": chunk_ids[invoice.external_id],
                    "kind": "invoice_imported",
                    "at": now,
                    "user_id": user_id,
                    "detail": invoice.number,
                }
                for invoice in chunk
            ],
        )
        progress.advance(len(chunk) + sum(len(i.lines) for i in chunk))
    return ids


def _insert_lines(
    session: Session, invoices: Sequence[NewInvoice], ids: dict[str, int]
) -> None:
    rows = []
    rates = []
    for invoice in invoices:
        invoice_id = ids[invoice.external_id]
        for position, line in enumerate(invoice.lines):
            rows.append(
                {
                    "invoice_id": invoice_id,
                    "position": position,
                    "kind": line.kind,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price_minor": line.unit_price_minor,
                    "discount_percent": line.discount_percent,
                    "net_minor": line.net_minor,
                }
            )
            rates.append(line.rate_ids)
    session.execute(insert(InvoiceLine.__table__), rows)
    line_ids = {
        (invoice_id, position): line_id
        for line_id, invoice_id, position in session.execute(
            select(InvoiceLine.id, InvoiceLine.invoice_id, InvoiceLine.position).where(
                InvoiceLine.invoice_id.in_(list(ids.values()))
            )
        )
    }
    links = [
        {"line_id": line_ids[(row["invoice_id"], row["position"])], "tax_rate_id": r}
        for row, rate_ids in zip(rows, rates, strict=True)
        for r in rate_ids
    ]
    if links:
        session.execute(insert(InvoiceLineTax.__table__), links)


def _insert_payments(
    session: Session,
    plan: Plan,
    invoice_ids: dict[str, int],
    user_id: int | None,
    progress: Progress,
) -> None:
    for chunk in _chunks(plan.payments):
        session.execute(
            insert(Payment.__table__),
            [
                {
                    "workspace_id": plan.workspace_id,
                    "invoice_id": invoice_ids[p.invoice_external_id],
                    "paid_on": p.paid_on,
                    "amount_minor": p.amount_minor,
                    "method": p.method,
                    "reference": p.reference or None,
                    "recorded_by_id": user_id,
                    "external_id": p.external_id,
                }
                for p in chunk
            ],
        )
        progress.advance(len(chunk))
