"""Migration cf_0006: each invoice's paid amount, filled in and kept by triggers.

On a database of its own (a SQLite file, or a fresh PostgreSQL database when
the suite runs there): books written under cf_0005, then the upgrade, then
the downgrade, which must leave cf_0005's revenue triggers working.
"""

from __future__ import annotations

import os
from datetime import date

import pytest
import sqlalchemy as sa
from alembic import command

from clientflow_plugin import revenue_totals
from clientflow_plugin.models import Invoice, Payment
from host_stub import migrating
from host_stub.extensions import db
from host_stub.models import Workspace
from tests.clientflow.dashboard_factories import Books
from tests.conftest import make_app

BEFORE = "cf_0005_revenue_totals"
DAY = date(2026, 3, 2)
OURS = {
    "ix_clientflow_invoices_ws_open_due",
    "ix_clientflow_invoices_ws_unissued",
    "ix_clientflow_invoices_ws_issue_id",
}


@pytest.fixture
def fresh_app(database_url, tmp_path):
    """An app on an empty database of its own."""
    if not database_url.startswith("postgresql"):
        url = "sqlite:///" + str(tmp_path / "fresh.db")
        server = None
    else:
        name = f"clientflow_cf0006_{os.getpid()}"
        server = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        url = database_url.rsplit("/", 1)[0] + f"/{name}"
    app = make_app(url, str(tmp_path))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    if server is not None:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.dispose()


def migrate_clientflow(revision: str, *, down: bool = False) -> None:
    db.session.remove()
    source = migrating.find_source("clientflow")
    with db.engine.begin() as connection:
        config = migrating.alembic_config(source, connection)
        (command.downgrade if down else command.upgrade)(config, revision)


def invoice_row(workspace_id: int, client_id: int, total: int, state="issued") -> int:
    """An invoice written without the ORM, which would read ``paid_minor``."""
    return db.session.execute(
        sa.insert(Invoice.__table__)
        .values(
            workspace_id=workspace_id,
            client_id=client_id,
            state=state,
            currency="EUR",
            series="own",
            issue_date=DAY,
            due_date=DAY,
            discount_minor=0,
            subtotal_minor=total,
            tax_minor=0,
            total_minor=total,
            terms="",
            void_reason="",
        )
        .returning(Invoice.__table__.c.id)
    ).scalar_one()


def add_payment(workspace_id: int, invoice_id: int, amount: int) -> None:
    db.session.add(
        Payment(
            workspace_id=workspace_id,
            invoice_id=invoice_id,
            amount_minor=amount,
            paid_on=DAY,
        )
    )
    db.session.commit()


def triggers() -> set[str]:
    if db.engine.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return set(db.session.scalars(sa.text(query)))


def schema() -> tuple[set[str], set[str]]:
    inspector = sa.inspect(db.engine)
    columns = {c["name"] for c in inspector.get_columns("clientflow_invoices")}
    indexes = {i["name"] for i in inspector.get_indexes("clientflow_invoices")}
    return columns, indexes


def paid_by_invoice() -> dict[int, int]:
    rows = db.session.execute(sa.text("SELECT id, paid_minor FROM clientflow_invoices"))
    return dict(rows.all())


def test_upgrade_fills_in_paid_and_downgrade_takes_it_all_away(fresh_app):
    migrating.upgrade()
    migrate_clientflow(BEFORE, down=True)
    workspace = Workspace(
        slug="acme", name="Acme", timezone="Europe/Madrid", currency="EUR"
    )
    db.session.add(workspace)
    db.session.commit()
    ws, client = workspace.id, Books(workspace).client().id
    paid = invoice_row(ws, client, 10_000)
    part = invoice_row(ws, client, 20_000)
    voided = invoice_row(ws, client, 5_000, state="void")
    unpaid = invoice_row(ws, client, 7_000)
    payments = ((paid, 4_000), (paid, 6_000), (part, 500), (voided, 5_000))
    for invoice_id, amount in payments:
        add_payment(ws, invoice_id, amount)
    revenue_triggers = triggers()

    migrate_clientflow("heads")

    assert paid_by_invoice() == {paid: 10_000, part: 500, voided: 5_000, unpaid: 0}
    assert revenue_triggers < triggers()  # cf_0005's are all still there
    columns, indexes = schema()
    assert "paid_minor" in columns and OURS <= indexes
    add_payment(ws, unpaid, 1_000)
    assert paid_by_invoice()[unpaid] == 1_000

    migrate_clientflow(BEFORE, down=True)

    columns, indexes = schema()
    assert "paid_minor" not in columns and not OURS & indexes
    assert triggers() == revenue_triggers
    add_payment(ws, part, 700)
    # Only the totals of cf_0005: paid amounts left with the downgrade.
    assert revenue_totals.total_differences(db.session) == []
