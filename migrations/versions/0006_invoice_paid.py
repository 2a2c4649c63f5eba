"""invoice paid amounts kept by triggers, and the invoices list's indexes

The invoices page told paid from pending and overdue by adding up every
payment of the workspace on each request. Each invoice now carries what its
payments add up to, ``paid_minor``, which triggers on ``clientflow_payments``
keep in the same transaction as the change, whichever code writes it. Each
change adds a signed delta to the invoice's row, so concurrent payments of
one invoice add up rather than overwrite each other (PostgreSQL serialises
them on the row). On PostgreSQL, inserts are added up per statement from
its transition table, as cf_0005 does for the revenue totals.

Three indexes serve the page, so that it reads the open invoices, the
drafts and the voids but never the paid history: the open invoices (issued,
not fully paid) by due date, a small part of the table that holds every
pending and overdue invoice; the drafts and voids; and every invoice by
issue date and id, the order of the list. The first two are partial and
carry the columns the page adds up, so its sums read them alone.

The column is added with a plain ``ALTER TABLE … ADD COLUMN``:
``batch_alter_table`` would copy ``clientflow_invoices`` on SQLite and drop
the triggers of ``cf_0005_revenue_totals`` with it.

Revision ID: cf_0006_invoice_paid
Revises: cf_0005_revenue_totals
Create Date: 2026-12-05 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "cf_0006_invoice_paid"
down_revision = "cf_0005_revenue_totals"
branch_labels = None
depends_on = None

#: Issued and not fully paid (pending or overdue); and drafts and voids.
OPEN = "state = 'issued' AND paid_minor < total_minor"
UNISSUED = "state <> 'issued'"

#: (name, columns, condition) of the list's indexes.
INDEXES = (
    (
        "ix_clientflow_invoices_ws_open_due",
        [
            "workspace_id",
            "state",
            "due_date",
            "id",
            "client_id",
            "currency",
            "total_minor",
            "paid_minor",
        ],
        OPEN,
    ),
    (
        "ix_clientflow_invoices_ws_unissued",
        ["workspace_id", "client_id", "state", "currency", "total_minor", "issue_date"],
        UNISSUED,
    ),
    ("ix_clientflow_invoices_ws_issue_id", ["workspace_id", "issue_date", "id"], None),
)


def upgrade() -> None:
    op.add_column(
        "clientflow_invoices",
        sa.Column("paid_minor", sa.BigInteger(), nullable=False, server_default="0"),
    )
    create_triggers()
    backfill()
    for name, columns, condition in INDEXES:
        partial = {}
        if condition is not None:
            partial = {
                f"{d}_where": sa.text(condition) for d in ("sqlite", "postgresql")
            }
        op.create_index(name, "clientflow_invoices", columns, **partial)


def downgrade() -> None:
    for name, _, _ in reversed(INDEXES):
        op.drop_index(name, "clientflow_invoices")
    drop_triggers()
    # SQLite drops a column in place (3.35+), so the table keeps its triggers.
    op.drop_column("clientflow_invoices", "paid_minor")


def backfill() -> None:
    """Every invoice's payments, added up once."""
    op.execute(
        """UPDATE clientflow_invoices
              SET paid_minor = p.paid
             FROM (SELECT invoice_id, SUM(amount_minor) AS paid
                     FROM clientflow_payments
                    GROUP BY invoice_id) AS p
            WHERE clientflow_invoices.id = p.invoice_id"""
    )


# -- triggers ------------------------------------------------------------------------

SQLITE_TRIGGER_NAMES = (
    "clientflow_payments_paid_insert",
    "clientflow_payments_paid_update",
    "clientflow_payments_paid_delete",
)

#: Adds ``{sign}{row}.amount_minor`` to the invoice of the payment ``{row}``.
_ADD_PAID = """
    UPDATE clientflow_invoices
       SET paid_minor = paid_minor {sign} {row}.amount_minor
     WHERE id = {row}.invoice_id;"""


def _add(row: str, sign: str) -> str:
    return _ADD_PAID.format(row=row, sign=sign)


#: A change of neither column leaves the sums as they are.
_MOVES = (
    "OLD.invoice_id IS NOT NEW.invoice_id OR OLD.amount_minor IS NOT NEW.amount_minor"
)

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER clientflow_payments_paid_insert
        AFTER INSERT ON clientflow_payments
        BEGIN {_add("NEW", "+")} END""",
    f"""CREATE TRIGGER clientflow_payments_paid_update
        AFTER UPDATE OF invoice_id, amount_minor ON clientflow_payments
        WHEN {_MOVES}
        BEGIN {_add("OLD", "-")} {_add("NEW", "+")} END""",
    f"""CREATE TRIGGER clientflow_payments_paid_delete
        AFTER DELETE ON clientflow_payments
        BEGIN {_add("OLD", "-")} END""",
]

#: The payments one INSERT statement adds, read from its transition table:
#: a bulk load costs one grouped update. The invoices are locked in id order
#: first, so that two such statements wait for each other instead of
#: deadlocking; NO KEY UPDATE, as the update itself takes, lets the foreign
#: key checks of other payments through.
_PG_ADD_INSERTED = """
    PERFORM 1 FROM clientflow_invoices
      WHERE id IN (SELECT invoice_id FROM inserted)
      ORDER BY id FOR NO KEY UPDATE;
    UPDATE clientflow_invoices AS i
       SET paid_minor = i.paid_minor + p.paid
      FROM (SELECT invoice_id, SUM(amount_minor) AS paid
              FROM inserted GROUP BY invoice_id) AS p
     WHERE i.id = p.invoice_id;"""

POSTGRESQL_TRIGGER_NAMES = (
    "clientflow_payments_paid_inserted",
    "clientflow_payments_paid",
    "clientflow_payments_paid_update",
)

POSTGRESQL_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION clientflow_payments_paid_inserted()
        RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_PG_ADD_INSERTED}
            RETURN NULL;
        END $$""",
    f"""CREATE OR REPLACE FUNCTION clientflow_payments_paid()
        RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_add("OLD", "-")}
            IF TG_OP = 'UPDATE' THEN
                {_add("NEW", "+")}
            END IF;
            RETURN NULL;
        END $$""",
    *(
        f"DROP TRIGGER IF EXISTS {name} ON clientflow_payments"
        for name in POSTGRESQL_TRIGGER_NAMES
    ),
    """CREATE TRIGGER clientflow_payments_paid_inserted
        AFTER INSERT ON clientflow_payments REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION clientflow_payments_paid_inserted()""",
    """CREATE TRIGGER clientflow_payments_paid
        AFTER DELETE ON clientflow_payments FOR EACH ROW
        EXECUTE FUNCTION clientflow_payments_paid()""",
    f"""CREATE TRIGGER clientflow_payments_paid_update
        AFTER UPDATE OF invoice_id, amount_minor ON clientflow_payments
        FOR EACH ROW WHEN ({_MOVES.replace("IS NOT", "IS DISTINCT FROM")})
        EXECUTE FUNCTION clientflow_payments_paid()""",
]


def create_triggers() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    for name in POSTGRESQL_TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON clientflow_payments")
    op.execute("DROP FUNCTION IF EXISTS clientflow_payments_paid_inserted()")
    op.execute("DROP FUNCTION IF EXISTS clientflow_payments_paid()")
