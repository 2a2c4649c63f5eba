"""revenue totals: per day, per client and month, per client, kept by triggers

The dashboard's all-time figures used to add up every issued invoice and
every payment of the workspace on each request. These three tables hold the
same sums per day, per client and month, and per client, and database
triggers on ``clientflow_invoices`` and ``clientflow_payments`` keep them in
the same transaction as the change, whichever code writes it (the billing
pages, the API, imports, schedules, a console). The rules are those of
``clientflow_plugin/metrics.py``: an invoice counts while its state is
``issued``, on its issue date; a payment counts on its date while its invoice
is issued. Each change adds a signed delta with ``INSERT … ON CONFLICT DO
UPDATE``, which PostgreSQL serialises on the row, so concurrent payments add
up rather than overwrite each other.

SQLite has no stored functions, so one INSTEAD OF trigger on the view
``clientflow_revenue_changes`` plays that part: the other triggers insert a
change into the view and it applies it to the three tables.

Beware: a later migration that rebuilds ``clientflow_invoices`` or
``clientflow_payments`` on SQLite (``batch_alter_table`` copies the table)
drops these triggers; it must create them again (``create_triggers`` below).
``flask clientflow check-totals`` finds any drift and ``--repair`` rebuilds.

Revision ID: cf_0005_revenue_totals
Revises: cf_0004_dashboard_indexes
Create Date: 2026-12-04 19:20:00
"""

# ruff: noqa: S608  (the SQL is put together from this file's constants only)

import sqlalchemy as sa
from alembic import op

revision = "cf_0005_revenue_totals"
down_revision = "cf_0004_dashboard_indexes"
branch_labels = None
depends_on = None

TABLES = (
    "clientflow_client_revenue",
    "clientflow_client_revenue_months",
    "clientflow_revenue_days",
)


def _amounts() -> list[sa.Column]:
    return [
        sa.Column("invoiced_minor", sa.BigInteger(), nullable=False),
        sa.Column("collected_minor", sa.BigInteger(), nullable=False),
        sa.Column("issued_count", sa.Integer(), nullable=False),
    ]


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "clientflow_revenue_days",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_amounts(),
        _workspace_fk("clientflow_revenue_days"),
        sa.PrimaryKeyConstraint(
            "workspace_id", "currency", "day", name=op.f("pk_clientflow_revenue_days")
        ),
    )
    op.create_table(
        "clientflow_client_revenue_months",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        *_amounts(),
        _workspace_fk("clientflow_client_revenue_months"),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "currency",
            "month",
            "client_id",
            name=op.f("pk_clientflow_client_revenue_months"),
        ),
    )
    op.create_table(
        "clientflow_client_revenue",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        *_amounts(),
        _workspace_fk("clientflow_client_revenue"),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "currency",
            "client_id",
            name=op.f("pk_clientflow_client_revenue"),
        ),
    )
    create_triggers()
    backfill()


def downgrade() -> None:
    drop_triggers()
    for table in TABLES:
        op.drop_table(table)


# -- the rows every change adds up to ----------------------------------------------

#: (workspace, currency, client, day, invoiced, collected, issued count) of
#: each issued invoice and each payment on one, for the backfill.
CONTRIBUTIONS = """
    SELECT i.workspace_id, i.currency, i.client_id, i.issue_date AS day,
           i.total_minor AS invoiced, 0 AS collected, 1 AS issued
      FROM clientflow_invoices i
     WHERE i.state = 'issued'
    UNION ALL
    SELECT i.workspace_id, i.currency, i.client_id, p.paid_on,
           0, p.amount_minor, 0
      FROM clientflow_payments p
      JOIN clientflow_invoices i ON i.id = p.invoice_id
     WHERE i.state = 'issued'
"""


def backfill() -> None:
    month = (
        "substr(day, 1, 8) || '01'"
        if op.get_bind().dialect.name == "sqlite"
        else "CAST(date_trunc('month', day) AS date)"
    )
    sums = "SUM(invoiced), SUM(collected), SUM(issued)"
    op.execute(
        f"""INSERT INTO clientflow_revenue_days
            (workspace_id, currency, day, invoiced_minor, collected_minor,
             issued_count)
            SELECT workspace_id, currency, day, {sums}
              FROM ({CONTRIBUTIONS}) c
             GROUP BY workspace_id, currency, day"""
    )
    op.execute(
        f"""INSERT INTO clientflow_client_revenue_months
            (workspace_id, currency, month, client_id, invoiced_minor,
             collected_minor, issued_count)
            SELECT workspace_id, currency, {month}, client_id, {sums}
              FROM ({CONTRIBUTIONS}) c
             GROUP BY workspace_id, currency, {month}, client_id"""
    )
    op.execute(
        f"""INSERT INTO clientflow_client_revenue
            (workspace_id, currency, client_id, invoiced_minor, collected_minor,
             issued_count)
            SELECT workspace_id, currency, client_id, {sums}
              FROM ({CONTRIBUTIONS}) c
             GROUP BY workspace_id, currency, client_id"""
    )


# -- triggers ------------------------------------------------------------------------

#: Invoice columns whose change moves the invoice's or its payments' sums.
INVOICE_COLUMNS = "state, client_id, issue_date, total_minor, currency, workspace_id"


def create_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        for statement in POSTGRESQL_TRIGGERS:
            op.execute(statement)


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in (
            "clientflow_invoices_revenue_insert",
            "clientflow_invoices_revenue_update",
            "clientflow_invoices_revenue_delete",
            "clientflow_payments_revenue_insert",
            "clientflow_payments_revenue_update",
            "clientflow_payments_revenue_delete",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP VIEW IF EXISTS clientflow_revenue_changes")
    else:
        for name in (
            "clientflow_invoices_revenue",
            "clientflow_invoices_revenue_update",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON clientflow_invoices")
        op.execute(
            "DROP TRIGGER IF EXISTS clientflow_payments_revenue ON clientflow_payments"
        )
        op.execute("DROP FUNCTION IF EXISTS clientflow_invoices_revenue()")
        op.execute("DROP FUNCTION IF EXISTS clientflow_payments_revenue()")
        op.execute(
            "DROP FUNCTION IF EXISTS clientflow_add_revenue"
            "(integer, text, integer, date, bigint, bigint, integer)"
        )


def _sqlite_upsert(table: str, keys: str, values: str) -> str:
    return f"""
        INSERT INTO {table} ({keys}, invoiced_minor, collected_minor, issued_count)
        VALUES ({values}, NEW.invoiced_minor, NEW.collected_minor, NEW.issued_count)
        ON CONFLICT ({keys}) DO UPDATE SET
            invoiced_minor = invoiced_minor + excluded.invoiced_minor,
            collected_minor = collected_minor + excluded.collected_minor,
            issued_count = issued_count + excluded.issued_count;"""


#: A payment's change, as the invoice it belongs to stands (``{row}`` is NEW
#: or OLD); nothing when that invoice is not issued or no longer exists.
_SQLITE_PAYMENT_CHANGE = """
    INSERT INTO clientflow_revenue_changes
    SELECT i.workspace_id, i.currency, i.client_id, {row}.paid_on,
           0, {sign}{row}.amount_minor, 0
      FROM clientflow_invoices i
     WHERE i.id = {row}.invoice_id AND i.state = 'issued';"""

#: An invoice's own change and that of its payments, ``{row}`` NEW or OLD.
_SQLITE_INVOICE_CHANGE = """
    INSERT INTO clientflow_revenue_changes
    SELECT {row}.workspace_id, {row}.currency, {row}.client_id, {row}.issue_date,
           {sign}{row}.total_minor, 0, {sign}1
     WHERE {row}.state = 'issued';"""

_SQLITE_INVOICE_PAYMENTS_CHANGE = """
    INSERT INTO clientflow_revenue_changes
    SELECT {row}.workspace_id, {row}.currency, {row}.client_id, p.paid_on,
           0, {sign}SUM(p.amount_minor), 0
      FROM clientflow_payments p
     WHERE p.invoice_id = {row}.id AND {row}.state = 'issued'
     GROUP BY p.paid_on;"""

_MOVES_PAYMENTS = (
    "(OLD.state IS NOT NEW.state OR OLD.client_id IS NOT NEW.client_id"
    " OR OLD.currency IS NOT NEW.currency OR OLD.workspace_id IS NOT NEW.workspace_id)"
)


#: Payments follow their invoice only when it changes state, client, currency
#: or workspace; a new total or issue date leaves them where they are.
_SQLITE_MOVED_PAYMENTS = _SQLITE_INVOICE_PAYMENTS_CHANGE.replace(
    "GROUP BY", f"AND {_MOVES_PAYMENTS} GROUP BY"
)


def _sqlite(template: str, row: str, sign: str) -> str:
    return template.format(row=row, sign=sign)


_SQLITE_APPLY = "".join(
    (
        _sqlite_upsert(
            "clientflow_revenue_days",
            "workspace_id, currency, day",
            "NEW.workspace_id, NEW.currency, NEW.day",
        ),
        _sqlite_upsert(
            "clientflow_client_revenue_months",
            "workspace_id, currency, month, client_id",
            "NEW.workspace_id, NEW.currency, substr(NEW.day, 1, 8) || '01', "
            "NEW.client_id",
        ),
        _sqlite_upsert(
            "clientflow_client_revenue",
            "workspace_id, currency, client_id",
            "NEW.workspace_id, NEW.currency, NEW.client_id",
        ),
    )
)

SQLITE_TRIGGERS = [
    "DROP VIEW IF EXISTS clientflow_revenue_changes",
    # Typed columns of no rows: what the triggers below insert into.
    """CREATE VIEW clientflow_revenue_changes AS
       SELECT workspace_id, currency, 0 AS client_id, day, invoiced_minor,
              collected_minor, issued_count
         FROM clientflow_revenue_days WHERE 0""",
    # A change of a workspace being deleted has nowhere to go (its rows go
    # with it), and inserting it would break the foreign key.
    f"""CREATE TRIGGER clientflow_revenue_changes_apply
        INSTEAD OF INSERT ON clientflow_revenue_changes
        WHEN EXISTS (SELECT 1 FROM workspaces WHERE id = NEW.workspace_id)
        BEGIN {_SQLITE_APPLY} END""",
    f"""CREATE TRIGGER clientflow_invoices_revenue_insert
        AFTER INSERT ON clientflow_invoices WHEN NEW.state = 'issued'
        BEGIN {_sqlite(_SQLITE_INVOICE_CHANGE, "NEW", "")} END""",
    f"""CREATE TRIGGER clientflow_invoices_revenue_update
        AFTER UPDATE OF {INVOICE_COLUMNS} ON clientflow_invoices
        WHEN (OLD.state = 'issued' OR NEW.state = 'issued') AND (
            {_MOVES_PAYMENTS} OR OLD.issue_date IS NOT NEW.issue_date
            OR OLD.total_minor IS NOT NEW.total_minor)
        BEGIN
        {_sqlite(_SQLITE_INVOICE_CHANGE, "OLD", "-")}
        {_sqlite(_SQLITE_INVOICE_CHANGE, "NEW", "")}
        {_sqlite(_SQLITE_MOVED_PAYMENTS, "OLD", "-")}
        {_sqlite(_SQLITE_MOVED_PAYMENTS, "NEW", "")}
        END""",
    f"""CREATE TRIGGER clientflow_invoices_revenue_delete
        AFTER DELETE ON clientflow_invoices WHEN OLD.state = 'issued'
        BEGIN
        {_sqlite(_SQLITE_INVOICE_CHANGE, "OLD", "-")}
        {_sqlite(_SQLITE_INVOICE_PAYMENTS_CHANGE, "OLD", "-")}
        END""",
    f"""CREATE TRIGGER clientflow_payments_revenue_insert
        AFTER INSERT ON clientflow_payments
        BEGIN {_sqlite(_SQLITE_PAYMENT_CHANGE, "NEW", "")} END""",
    f"""CREATE TRIGGER clientflow_payments_revenue_update
        AFTER UPDATE OF invoice_id, paid_on, amount_minor ON clientflow_payments
        WHEN OLD.invoice_id IS NOT NEW.invoice_id OR OLD.paid_on IS NOT NEW.paid_on
          OR OLD.amount_minor IS NOT NEW.amount_minor
        BEGIN
        {_sqlite(_SQLITE_PAYMENT_CHANGE, "OLD", "-")}
        {_sqlite(_SQLITE_PAYMENT_CHANGE, "NEW", "")}
        END""",
    f"""CREATE TRIGGER clientflow_payments_revenue_delete
        AFTER DELETE ON clientflow_payments
        BEGIN {_sqlite(_SQLITE_PAYMENT_CHANGE, "OLD", "-")} END""",
]


def _pg_upsert(table: str, keys: str, values: str) -> str:
    return f"""
        INSERT INTO {table} AS t
            ({keys}, invoiced_minor, collected_minor, issued_count)
        VALUES ({values}, invoiced, collected, issued)
        ON CONFLICT ({keys}) DO UPDATE SET
            invoiced_minor = t.invoiced_minor + excluded.invoiced_minor,
            collected_minor = t.collected_minor + excluded.collected_minor,
            issued_count = t.issued_count + excluded.issued_count;"""


_PG_APPLY = "".join(
    (
        _pg_upsert(
            "clientflow_revenue_days", "workspace_id, currency, day", "ws, cur, d"
        ),
        _pg_upsert(
            "clientflow_client_revenue_months",
            "workspace_id, currency, month, client_id",
            "ws, cur, CAST(date_trunc('month', d) AS date), client",
        ),
        _pg_upsert(
            "clientflow_client_revenue",
            "workspace_id, currency, client_id",
            "ws, cur, client",
        ),
    )
)

POSTGRESQL_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION clientflow_add_revenue(
            ws integer, cur text, client integer, d date,
            invoiced bigint, collected bigint, issued integer)
        RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            -- A change of a workspace being deleted has nowhere to go (its
            -- rows go with it), and inserting it would break the foreign key.
            IF NOT EXISTS (SELECT 1 FROM workspaces WHERE id = ws) THEN
                RETURN;
            END IF;
            {_PG_APPLY}
        END $$""",
    """CREATE OR REPLACE FUNCTION clientflow_invoices_revenue()
        RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            moves_payments boolean := TG_OP <> 'INSERT';
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                moves_payments := OLD.state IS DISTINCT FROM NEW.state
                    OR OLD.client_id IS DISTINCT FROM NEW.client_id
                    OR OLD.currency IS DISTINCT FROM NEW.currency
                    OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id;
            END IF;
            IF TG_OP <> 'INSERT' AND OLD.state = 'issued' THEN
                PERFORM clientflow_add_revenue(OLD.workspace_id, OLD.currency,
                    OLD.client_id, OLD.issue_date, -OLD.total_minor, 0, -1);
                IF moves_payments THEN
                    PERFORM clientflow_add_revenue(OLD.workspace_id, OLD.currency,
                        OLD.client_id, p.paid_on, 0, -SUM(p.amount_minor)::bigint, 0)
                       FROM clientflow_payments p
                      WHERE p.invoice_id = OLD.id
                      GROUP BY p.paid_on;
                END IF;
            END IF;
            IF TG_OP <> 'DELETE' AND NEW.state = 'issued' THEN
                PERFORM clientflow_add_revenue(NEW.workspace_id, NEW.currency,
                    NEW.client_id, NEW.issue_date, NEW.total_minor, 0, 1);
                IF moves_payments THEN
                    PERFORM clientflow_add_revenue(NEW.workspace_id, NEW.currency,
                        NEW.client_id, p.paid_on, 0, SUM(p.amount_minor)::bigint, 0)
                       FROM clientflow_payments p
                      WHERE p.invoice_id = NEW.id
                      GROUP BY p.paid_on;
                END IF;
            END IF;
            RETURN NULL;
        END $$""",
    """CREATE OR REPLACE FUNCTION clientflow_payments_revenue()
        RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                PERFORM clientflow_add_revenue(i.workspace_id, i.currency,
                    i.client_id, OLD.paid_on, 0, -OLD.amount_minor, 0)
                   FROM clientflow_invoices i
                  WHERE i.id = OLD.invoice_id AND i.state = 'issued';
            END IF;
            IF TG_OP <> 'DELETE' THEN
                PERFORM clientflow_add_revenue(i.workspace_id, i.currency,
                    i.client_id, NEW.paid_on, 0, NEW.amount_minor, 0)
                   FROM clientflow_invoices i
                  WHERE i.id = NEW.invoice_id AND i.state = 'issued';
            END IF;
            RETURN NULL;
        END $$""",
    "DROP TRIGGER IF EXISTS clientflow_invoices_revenue ON clientflow_invoices",
    """CREATE TRIGGER clientflow_invoices_revenue
        AFTER INSERT OR DELETE ON clientflow_invoices FOR EACH ROW
        EXECUTE FUNCTION clientflow_invoices_revenue()""",
    # Only a change of the counted columns: locking an invoice by setting its
    # state to itself (clientflow_plugin/invoices.py) must not touch the sums.
    "DROP TRIGGER IF EXISTS clientflow_invoices_revenue_update ON clientflow_invoices",
    f"""CREATE TRIGGER clientflow_invoices_revenue_update
        AFTER UPDATE OF {INVOICE_COLUMNS} ON clientflow_invoices FOR EACH ROW
        WHEN ((OLD.state = 'issued' OR NEW.state = 'issued') AND (
            OLD.state IS DISTINCT FROM NEW.state
            OR OLD.client_id IS DISTINCT FROM NEW.client_id
            OR OLD.issue_date IS DISTINCT FROM NEW.issue_date
            OR OLD.total_minor IS DISTINCT FROM NEW.total_minor
            OR OLD.currency IS DISTINCT FROM NEW.currency
            OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id))
        EXECUTE FUNCTION clientflow_invoices_revenue()""",
    "DROP TRIGGER IF EXISTS clientflow_payments_revenue ON clientflow_payments",
    """CREATE TRIGGER clientflow_payments_revenue
        AFTER INSERT OR DELETE OR UPDATE OF invoice_id, paid_on, amount_minor
        ON clientflow_payments FOR EACH ROW
        EXECUTE FUNCTION clientflow_payments_revenue()""",
]
