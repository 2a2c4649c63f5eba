"""Helpers of the import tests: CSV files as spreadsheets write them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from clientflow_plugin import imports
from host_stub.extensions import db

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "import"

CLIENT_HEADER = ["external id", "name", "company", "email", "tax id", "status"]
INVOICE_HEADER = [
    "invoice external id",
    "number",
    "client external id",
    "issue date",
    "due date",
    "line kind",
    "description",
    "quantity",
    "unit price",
    "tax rates",
    "stated total",
]
PAYMENT_HEADER = ["invoice external id", "date", "amount", "method", "reference"]


def csv_bytes(
    header: list[str],
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> bytes:
    """A CSV file; ``encoding`` "utf-8-sig" writes a byte-order mark."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def client_row(ext: str = "C1", name: str = "Laura Gómez", **over: str) -> list[str]:
    values = {
        "company": "Panadería La Espiga",
        "email": "laura@example.es",
        "tax id": "B12345674",
        "status": "active",
    }
    values.update(over)
    return [ext, name] + [values[k] for k in CLIENT_HEADER[2:]]


def invoice_row(
    ext: str = "F1",
    number: str = "2024/001",
    client: str = "C1",
    **over: str,
) -> list[str]:
    values = {
        "issue date": "2024-01-15",
        "due date": "2024-02-14",
        "line kind": "service",
        "description": "Diseño de logotipo",
        "quantity": "1",
        "unit price": "100.00",
        "tax rates": "IVA 21%",
        "stated total": "",
    }
    values.update({k.replace("_", " "): v for k, v in over.items()})
    return [ext, number, client] + [values[k] for k in INVOICE_HEADER[3:]]


def payment_row(
    invoice: str = "F1", date: str = "2024-02-01", amount: str = "121.00", **over: str
) -> list[str]:
    values = {"method": "transfer", "reference": "TRF 1"}
    values.update(over)
    return [invoice, date, amount, values["method"], values["reference"]]


def uploads(
    clients: bytes | None = None,
    invoices: bytes | None = None,
    payments: bytes | None = None,
) -> list[imports.Upload]:
    given = {"clients": clients, "invoices": invoices, "payments": payments}
    return [
        imports.Upload(kind, f"{kind}.csv", data)
        for kind, data in given.items()
        if data is not None
    ]


def example_uploads() -> list[imports.Upload]:
    return [
        imports.Upload(kind, f"{kind}.csv", (EXAMPLES / f"{kind}.csv").read_bytes())
        for kind in imports.FILE_KINDS
    ]


def check(workspace, files: list[imports.Upload], **options) -> imports.Plan:
    return imports.check(db.session, workspace, files, **options)


def run_import(workspace, files: list[imports.Upload], **options) -> imports.Plan:
    """Check and import ``files``; fails the test when the check finds problems."""
    plan = check(workspace, files, **options)
    assert plan.problems == []
    imports.apply(db.session, workspace, plan)
    return plan


def problems_of(plan: imports.Plan) -> list[tuple[str, int, str]]:
    """(file, line, column) of each problem, for exact assertions."""
    return [(p.file, p.line, p.column) for p in plan.problems]
