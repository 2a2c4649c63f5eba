"""revenue totals: per day, per client and month, per client, kept by triggers

The dashboard's all-time figures used to add up every issued invoice and
every payment of the workspace on each request. These three tables hold the
same sums per day, per client and month, and per client, and database
triggers on ``clientflow_invoices`` and ``clientflow_payments`` keep them in
the same transaction as the change, whichever code writes it (the billing
pages, the API, imports, schedules, a console).

The rules are those of ``clientflow_plugin/metrics.py``. An invoice counts
while its state is ``issued``: its total as *invoiced* on its issue date and
as *due* on its due date. A payment counts while its invoice is issued: as
*collected* on its own date and as *due paid* on the invoice's due date, so
that what is overdue on a day is the due less the due paid of the days
before it. Each change adds a signed delta with ``INSERT … ON CONFLICT DO
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

#: The sums every table keeps, and the two only the day table keeps.
CLIENT_SUMS = ("invoiced_minor", "collected_minor", "issued_count")
DAY_SUMS = (*CLIENT_SUMS, "due_minor", "due_paid_minor")


def _sum_columns(names) -> list[sa.Column]:
    return [
        sa.Column(
            name,
            sa.Integer() if name == "issued_count" else sa.BigInteger(),
            nullable=False,
        )
        for name in names
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
        *_sum_columns(DAY_SUMS),
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
        *_sum_columns(CLIENT_SUMS),
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
        *_sum_columns(CLIENT_SUMS),
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

#: (workspace, currency, client, day, invoiced, collected, issued, due, due
#: paid) of each issued invoice and each payment on one, for the backfill.
CONTRIBUTIONS = """
    SELECT i.workspace_id, i.currency, i.client_id, i.issue_date AS day,
           i.total_minor AS invoiced, 0 AS collected, 1 AS issued,
           0 AS due, 0 AS due_paid
      FROM clientflow_invoices i
     WHERE i.state = 'issued'
    UNION ALL
    SELECT i.workspace_id, i.currency, i.client_id, i.due_date, 0, 0, 0,
           i.total_minor, 0
      FROM clientflow_invoices i
     WHERE i.state = 'issued' AND i.due_date IS NOT NULL
    UNION ALL
    SELECT i.workspace_id, i.currency, i.client_id, p.paid_on, 0,
           p.amount_minor, 0, 0, 0
      FROM clientflow_payments p
      JOIN clientflow_invoices i ON i.id = p.invoice_id
     WHERE i.state = 'issued'
    UNION ALL
    SELECT i.workspace_id, i.currency, i.client_id, i.due_date, 0, 0, 0, 0,
           p.amount_minor
      FROM clientflow_payments p
      JOIN clientflow_invoices i ON i.id = p.invoice_id
     WHERE i.state = 'issued' AND i.due_date IS NOT NULL
"""


def backfill() -> None:
    month = (
        "substr(day, 1, 8) || '01'"
        if op.get_bind().dialect.name == "sqlite"
        else "CAST(date_trunc('month', day) AS date)"
    )
    client_sums = "SUM(invoiced), SUM(collected), SUM(issued)"
    counted = "WHERE invoiced <> 0 OR collected <> 0 OR issued <> 0"
    op.execute(
        f"""INSERT INTO clientflow_revenue_days
            (workspace_id, currency, day, {", ".join(DAY_SUMS)})
            SELECT workspace_id, currency, day, {client_sums}, SUM(due),
                   SUM(due_paid)
              FROM ({CONTRIBUTIONS}) c
             GROUP BY workspace_id, currency, day"""
    )
    op.execute(
        f"""INSERT INTO clientflow_client_revenue_months
            (workspace_id, currency, month, client_id, {", ".join(CLIENT_SUMS)})
            SELECT workspace_id, currency, {month}, client_id, {client_sums}
              FROM ({CONTRIBUTIONS}) c {counted}
             GROUP BY workspace_id, currency, {month}, client_id"""
    )
    op.execute(
        f"""INSERT INTO clientflow_client_revenue
            (workspace_id, currency, client_id, {", ".join(CLIENT_SUMS)})
            SELECT workspace_id, currency, client_id, {client_sums}
              FROM ({CONTRIBUTIONS}) c {counted}
             GROUP BY workspace_id, currency, client_id"""
    )


# -- triggers ------------------------------------------------------------------------

#: Invoice columns whose change moves the invoice's or its payments' sums.
INVOICE_COLUMNS = (
    "state, client_id, issue_date, due_date, total_minor, currency, workspace_id"
)

SQLITE_TRIGGER_NAMES = (
    "clientflow_invoices_issue_date_insert",
    "clientflow_invoices_issue_date_update",
    "clientflow_invoices_revenue_insert",
    "clientflow_invoices_revenue_update",
    "clientflow_invoices_revenue_delete",
    "clientflow_payments_revenue_insert",
    "clientflow_payments_revenue_update",
    "clientflow_payments_revenue_delete",
)


def create_triggers() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP VIEW IF EXISTS clientflow_revenue_changes")
        return
    for name in (
        "clientflow_invoices_revenue",
        "clientflow_invoices_revenue_update",
        "clientflow_invoices_revenue_inserted",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON clientflow_invoices")
    for name in ("clientflow_payments_revenue", "clientflow_payments_revenue_inserted"):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON clientflow_payments")
    for function in (
        "clientflow_invoices_revenue",
        "clientflow_payments_revenue",
        "clientflow_invoices_revenue_inserted",
        "clientflow_payments_revenue_inserted",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.execute(
        "DROP FUNCTION IF EXISTS clientflow_add_revenue"
        "(integer, text, integer, date, bigint, bigint, integer, bigint, bigint)"
    )


def _adding(sums, prefix: str = "") -> str:
    return ", ".join(f"{name} = {prefix}{name} + excluded.{name}" for name in sums)


# -- SQLite ---------------------------------------------------------------------------

_SQLITE_COUNTED = (
    "NEW.invoiced_minor <> 0 OR NEW.collected_minor <> 0 OR NEW.issued_count <> 0"
)
_SQLITE_CLIENT_VALUES = "NEW.invoiced_minor, NEW.collected_minor, NEW.issued_count"

_SQLITE_APPLY = f"""
    INSERT INTO clientflow_revenue_days
        (workspace_id, currency, day, {", ".join(DAY_SUMS)})
    VALUES (NEW.workspace_id, NEW.currency, NEW.day, {_SQLITE_CLIENT_VALUES},
            NEW.due_minor, NEW.due_paid_minor)
    ON CONFLICT (workspace_id, currency, day) DO UPDATE SET {_adding(DAY_SUMS)};
    INSERT INTO clientflow_client_revenue_months
        (workspace_id, currency, month, client_id, {", ".join(CLIENT_SUMS)})
    SELECT NEW.workspace_id, NEW.currency, substr(NEW.day, 1, 8) || '01',
           NEW.client_id, {_SQLITE_CLIENT_VALUES}
     WHERE {_SQLITE_COUNTED}
    ON CONFLICT (workspace_id, currency, month, client_id)
    DO UPDATE SET {_adding(CLIENT_SUMS)};
    INSERT INTO clientflow_client_revenue
        (workspace_id, currency, client_id, {", ".join(CLIENT_SUMS)})
    SELECT NEW.workspace_id, NEW.currency, NEW.client_id, {_SQLITE_CLIENT_VALUES}
     WHERE {_SQLITE_COUNTED}
    ON CONFLICT (workspace_id, currency, client_id)
    DO UPDATE SET {_adding(CLIENT_SUMS)};"""

#: An invoice's own change: its total on its issue day and on its due day.
#: ``{row}`` is NEW or OLD, ``{sign}`` empty or a minus.
_SQLITE_INVOICE_CHANGE = """
    INSERT INTO clientflow_revenue_changes
    SELECT {row}.workspace_id, {row}.currency, {row}.client_id, {row}.issue_date,
           {sign}{row}.total_minor, 0, {sign}1, 0, 0
     WHERE {row}.state = 'issued';
    INSERT INTO clientflow_revenue_changes
    SELECT {row}.workspace_id, {row}.currency, {row}.client_id, {row}.due_date,
           0, 0, 0, {sign}{row}.total_minor, 0
     WHERE {row}.state = 'issued' AND {row}.due_date IS NOT NULL;"""

#: The change of an invoice's payments: on their days and on its due day.
_SQLITE_INVOICE_PAYMENTS_CHANGE = """
    INSERT INTO clientflow_revenue_changes
    SELECT {row}.workspace_id, {row}.currency, {row}.client_id, p.paid_on,
           0, {sign}SUM(p.amount_minor), 0, 0, 0
      FROM clientflow_payments p
     WHERE p.invoice_id = {row}.id AND {row}.state = 'issued' {moved}
     GROUP BY p.paid_on;
    INSERT INTO clientflow_revenue_changes
    SELECT {row}.workspace_id, {row}.currency, {row}.client_id, {row}.due_date,
           0, 0, 0, 0, {sign}SUM(p.amount_minor)
      FROM clientflow_payments p
     WHERE p.invoice_id = {row}.id AND {row}.state = 'issued'
       AND {row}.due_date IS NOT NULL {moved}
     GROUP BY p.invoice_id;"""

#: A payment's change, as its invoice stands; nothing when that invoice is
#: not issued or no longer exists.
_SQLITE_PAYMENT_CHANGE = """
    INSERT INTO clientflow_revenue_changes
    SELECT i.workspace_id, i.currency, i.client_id, {row}.paid_on,
           0, {sign}{row}.amount_minor, 0, 0, 0
      FROM clientflow_invoices i
     WHERE i.id = {row}.invoice_id AND i.state = 'issued';
    INSERT INTO clientflow_revenue_changes
    SELECT i.workspace_id, i.currency, i.client_id, i.due_date,
           0, 0, 0, 0, {sign}{row}.amount_minor
      FROM clientflow_invoices i
     WHERE i.id = {row}.invoice_id AND i.state = 'issued'
       AND i.due_date IS NOT NULL;"""

#: Payments follow their invoice only when it changes state, client, currency,
#: workspace or due date; a new total or issue date leaves them where they are.
_SQLITE_MOVES_PAYMENTS = (
    "AND (OLD.state IS NOT NEW.state OR OLD.client_id IS NOT NEW.client_id"
    " OR OLD.currency IS NOT NEW.currency OR OLD.workspace_id IS NOT NEW.workspace_id"
    " OR OLD.due_date IS NOT NEW.due_date)"
)


def _sqlite(template: str, row: str, sign: str = "", moved: str = "") -> str:
    return template.format(row=row, sign=sign, moved=moved)


#: An issued invoice without an issue date has no day to be counted on; it
#: is refused with a message that says so rather than a foreign-looking one.
NO_ISSUE_DATE = "an issued invoice needs an issue date"

SQLITE_TRIGGERS = [
    *(
        f"""CREATE TRIGGER clientflow_invoices_issue_date_{event.lower()}
            BEFORE {event} ON clientflow_invoices
            WHEN NEW.state = 'issued' AND NEW.issue_date IS NULL
            BEGIN SELECT RAISE(ABORT, '{NO_ISSUE_DATE}'); END"""
        for event in ("INSERT", "UPDATE")
    ),
    "DROP VIEW IF EXISTS clientflow_revenue_changes",
    # Typed columns of no rows: what the triggers below insert into.
    """CREATE VIEW clientflow_revenue_changes AS
       SELECT workspace_id, currency, 0 AS client_id, day, invoiced_minor,
              collected_minor, issued_count, due_minor, due_paid_minor
         FROM clientflow_revenue_days WHERE 0""",
    # A change of a workspace being deleted has nowhere to go (its rows go
    # with it), and inserting it would break the foreign key.
    f"""CREATE TRIGGER clientflow_revenue_changes_apply
        INSTEAD OF INSERT ON clientflow_revenue_changes
        WHEN EXISTS (SELECT 1 FROM workspaces WHERE id = NEW.workspace_id)
        BEGIN {_SQLITE_APPLY} END""",
    f"""CREATE TRIGGER clientflow_invoices_revenue_insert
        AFTER INSERT ON clientflow_invoices WHEN NEW.state = 'issued'
        BEGIN {_sqlite(_SQLITE_INVOICE_CHANGE, "NEW")} END""",
    f"""CREATE TRIGGER clientflow_invoices_revenue_update
        AFTER UPDATE OF {INVOICE_COLUMNS} ON clientflow_invoices
        WHEN (OLD.state = 'issued' OR NEW.state = 'issued') AND (
            OLD.issue_date IS NOT NEW.issue_date
            OR OLD.total_minor IS NOT NEW.total_minor
            {_SQLITE_MOVES_PAYMENTS.replace("AND (", "OR (", 1)})
        BEGIN
        {_sqlite(_SQLITE_INVOICE_CHANGE, "OLD", "-")}
        {_sqlite(_SQLITE_INVOICE_CHANGE, "NEW")}
        {_sqlite(_SQLITE_INVOICE_PAYMENTS_CHANGE, "OLD", "-", _SQLITE_MOVES_PAYMENTS)}
        {_sqlite(_SQLITE_INVOICE_PAYMENTS_CHANGE, "NEW", "", _SQLITE_MOVES_PAYMENTS)}
        END""",
    f"""CREATE TRIGGER clientflow_invoices_revenue_delete
        AFTER DELETE ON clientflow_invoices WHEN OLD.state = 'issued'
        BEGIN
        {_sqlite(_SQLITE_INVOICE_CHANGE, "OLD", "-")}
        {_sqlite(_SQLITE_INVOICE_PAYMENTS_CHANGE, "OLD", "-")}
        END""",
    f"""CREATE TRIGGER clientflow_payments_revenue_insert
        AFTER INSERT ON clientflow_payments
        BEGIN {_sqlite(_SQLITE_PAYMENT_CHANGE, "NEW")} END""",
    f"""CREATE TRIGGER clientflow_payments_revenue_update
        AFTER UPDATE OF invoice_id, paid_on, amount_minor ON clientflow_payments
        WHEN OLD.invoice_id IS NOT NEW.invoice_id OR OLD.paid_on IS NOT NEW.paid_on
          OR OLD.amount_minor IS NOT NEW.amount_minor
        BEGIN
        {_sqlite(_SQLITE_PAYMENT_CHANGE, "OLD", "-")}
        {_sqlite(_SQLITE_PAYMENT_CHANGE, "NEW")}
        END""",
    f"""CREATE TRIGGER clientflow_payments_revenue_delete
        AFTER DELETE ON clientflow_payments
        BEGIN {_sqlite(_SQLITE_PAYMENT_CHANGE, "OLD", "-")} END""",
]


# -- PostgreSQL ------------------------------------------------------------------------

_PG_APPLY = f"""
    INSERT INTO clientflow_revenue_days AS t
        (workspace_id, currency, day, {", ".join(DAY_SUMS)})
    VALUES (ws, cur, d, invoiced, collected, issued, due, due_paid)
    ON CONFLICT (workspace_id, currency, day) DO UPDATE SET {_adding(DAY_SUMS, "t.")};
    IF invoiced <> 0 OR collected <> 0 OR issued <> 0 THEN
        INSERT INTO clientflow_client_revenue_months AS t
            (workspace_id, currency, month, client_id, {", ".join(CLIENT_SUMS)})
        VALUES (ws, cur, CAST(date_trunc('month', d) AS date), client,
                invoiced, collected, issued)
        ON CONFLICT (workspace_id, currency, month, client_id)
        DO UPDATE SET {_adding(CLIENT_SUMS, "t.")};
        INSERT INTO clientflow_client_revenue AS t
            (workspace_id, currency, client_id, {", ".join(CLIENT_SUMS)})
        VALUES (ws, cur, client, invoiced, collected, issued)
        ON CONFLICT (workspace_id, currency, client_id)
        DO UPDATE SET {_adding(CLIENT_SUMS, "t.")};
    END IF;"""

#: The invoice's own change and, when ``moves_payments``, its payments'; for
#: the row ``{row}`` (OLD or NEW) with ``{sign}``.
_PG_INVOICE_CHANGE = """
    PERFORM clientflow_add_revenue({row}.workspace_id, {row}.currency,
        {row}.client_id, {row}.issue_date, {sign}{row}.total_minor, 0, {sign}1, 0, 0);
    IF {row}.due_date IS NOT NULL THEN
        PERFORM clientflow_add_revenue({row}.workspace_id, {row}.currency,
            {row}.client_id, {row}.due_date, 0, 0, 0, {sign}{row}.total_minor, 0);
    END IF;
    IF moves_payments THEN
        PERFORM clientflow_add_revenue({row}.workspace_id, {row}.currency,
            {row}.client_id, p.paid_on, 0, {sign}SUM(p.amount_minor)::bigint, 0, 0, 0)
           FROM clientflow_payments p
          WHERE p.invoice_id = {row}.id
          GROUP BY p.paid_on;
        PERFORM clientflow_add_revenue({row}.workspace_id, {row}.currency,
            {row}.client_id, {row}.due_date, 0, 0, 0, 0,
            {sign}SUM(p.amount_minor)::bigint)
           FROM clientflow_payments p
          WHERE p.invoice_id = {row}.id AND {row}.due_date IS NOT NULL
          GROUP BY p.invoice_id;
    END IF;"""

_PG_PAYMENT_CHANGE = """
    PERFORM clientflow_add_revenue(i.workspace_id, i.currency, i.client_id,
        {row}.paid_on, 0, {sign}{row}.amount_minor, 0, 0, 0)
       FROM clientflow_invoices i
      WHERE i.id = {row}.invoice_id AND i.state = 'issued';
    PERFORM clientflow_add_revenue(i.workspace_id, i.currency, i.client_id,
        i.due_date, 0, 0, 0, 0, {sign}{row}.amount_minor)
       FROM clientflow_invoices i
      WHERE i.id = {row}.invoice_id AND i.state = 'issued'
        AND i.due_date IS NOT NULL;"""


def _pg(template: str, row: str, sign: str = "") -> str:
    return template.format(row=row, sign=sign)


def _pg_apply_rows(contributions: str) -> str:
    """One statement adding the changes of ``contributions`` (a SELECT of
    workspace_id, currency, client_id, day and the five sums) to the three
    tables, each key once and in key order, so that two such statements
    lock rows in the same order."""
    month = "CAST(date_trunc('month', day) AS date)"
    counted = "WHERE invoiced <> 0 OR collected <> 0 OR issued <> 0"
    client_sums = "SUM(invoiced), SUM(collected), SUM(issued)"
    return f"""
    WITH changes AS ({contributions}),
    kept AS (
        SELECT changes.* FROM changes
          JOIN workspaces w ON w.id = changes.workspace_id
    ),
    days AS (
        INSERT INTO clientflow_revenue_days AS t
            (workspace_id, currency, day, {", ".join(DAY_SUMS)})
        SELECT workspace_id, currency, day, {client_sums}, SUM(due), SUM(due_paid)
          FROM kept
         GROUP BY workspace_id, currency, day
         ORDER BY workspace_id, currency, day
        ON CONFLICT (workspace_id, currency, day)
        DO UPDATE SET {_adding(DAY_SUMS, "t.")}
    ),
    months AS (
        INSERT INTO clientflow_client_revenue_months AS t
            (workspace_id, currency, month, client_id, {", ".join(CLIENT_SUMS)})
        SELECT workspace_id, currency, {month}, client_id, {client_sums}
          FROM kept {counted}
         GROUP BY workspace_id, currency, {month}, client_id
         ORDER BY workspace_id, currency, {month}, client_id
        ON CONFLICT (workspace_id, currency, month, client_id)
        DO UPDATE SET {_adding(CLIENT_SUMS, "t.")}
    )
    INSERT INTO clientflow_client_revenue AS t
        (workspace_id, currency, client_id, {", ".join(CLIENT_SUMS)})
    SELECT workspace_id, currency, client_id, {client_sums}
      FROM kept {counted}
     GROUP BY workspace_id, currency, client_id
     ORDER BY workspace_id, currency, client_id
    ON CONFLICT (workspace_id, currency, client_id)
    DO UPDATE SET {_adding(CLIENT_SUMS, "t.")};"""


#: What the invoices and payments of one INSERT statement add, read from its
#: transition table ``inserted``.
_PG_INSERTED_INVOICES = """
    SELECT workspace_id, currency, client_id, issue_date AS day,
           total_minor AS invoiced, 0::bigint AS collected, 1 AS issued,
           0::bigint AS due, 0::bigint AS due_paid
      FROM inserted WHERE state = 'issued'
    UNION ALL
    SELECT workspace_id, currency, client_id, due_date, 0, 0, 0, total_minor, 0
      FROM inserted WHERE state = 'issued' AND due_date IS NOT NULL"""

_PG_INSERTED_PAYMENTS = """
    SELECT i.workspace_id, i.currency, i.client_id, p.paid_on AS day,
           0::bigint AS invoiced, p.amount_minor AS collected, 0 AS issued,
           0::bigint AS due, 0::bigint AS due_paid
      FROM inserted p JOIN clientflow_invoices i ON i.id = p.invoice_id
     WHERE i.state = 'issued'
    UNION ALL
    SELECT i.workspace_id, i.currency, i.client_id, i.due_date, 0, 0, 0, 0,
           p.amount_minor
      FROM inserted p JOIN clientflow_invoices i ON i.id = p.invoice_id
     WHERE i.state = 'issued' AND i.due_date IS NOT NULL"""


POSTGRESQL_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION clientflow_add_revenue(
            ws integer, cur text, client integer, d date, invoiced bigint,
            collected bigint, issued integer, due bigint, due_paid bigint)
        RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            -- A change of a workspace being deleted has nowhere to go (its
            -- rows go with it), and inserting it would break the foreign key.
            IF NOT EXISTS (SELECT 1 FROM workspaces WHERE id = ws) THEN
                RETURN;
            END IF;
            {_PG_APPLY}
        END $$""",
    f"""CREATE OR REPLACE FUNCTION clientflow_invoices_revenue()
        RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            moves_payments boolean := TG_OP <> 'INSERT';
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                moves_payments := OLD.state IS DISTINCT FROM NEW.state
                    OR OLD.client_id IS DISTINCT FROM NEW.client_id
                    OR OLD.currency IS DISTINCT FROM NEW.currency
                    OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id
                    OR OLD.due_date IS DISTINCT FROM NEW.due_date;
            END IF;
            IF TG_OP <> 'INSERT' AND OLD.state = 'issued' THEN
                {_pg(_PG_INVOICE_CHANGE, "OLD", "-")}
            END IF;
            IF TG_OP <> 'DELETE' AND NEW.state = 'issued' THEN
                IF NEW.issue_date IS NULL THEN
                    RAISE EXCEPTION '{NO_ISSUE_DATE}'
                        USING ERRCODE = 'check_violation';
                END IF;
                {_pg(_PG_INVOICE_CHANGE, "NEW")}
            END IF;
            RETURN NULL;
        END $$""",
    f"""CREATE OR REPLACE FUNCTION clientflow_payments_revenue()
        RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                {_pg(_PG_PAYMENT_CHANGE, "OLD", "-")}
            END IF;
            IF TG_OP <> 'DELETE' THEN
                {_pg(_PG_PAYMENT_CHANGE, "NEW")}
            END IF;
            RETURN NULL;
        END $$""",
    # Inserts are added up per statement from its transition table: a bulk
    # import or COPY costs one grouped upsert per table, not three per row.
    f"""CREATE OR REPLACE FUNCTION clientflow_invoices_revenue_inserted()
        RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (
                SELECT 1 FROM inserted
                 WHERE state = 'issued' AND issue_date IS NULL
            ) THEN
                RAISE EXCEPTION '{NO_ISSUE_DATE}'
                    USING ERRCODE = 'check_violation';
            END IF;
            {_pg_apply_rows(_PG_INSERTED_INVOICES)}
            RETURN NULL;
        END $$""",
    f"""CREATE OR REPLACE FUNCTION clientflow_payments_revenue_inserted()
        RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_pg_apply_rows(_PG_INSERTED_PAYMENTS)}
            RETURN NULL;
        END $$""",
    "DROP TRIGGER IF EXISTS clientflow_invoices_revenue_inserted"
    " ON clientflow_invoices",
    """CREATE TRIGGER clientflow_invoices_revenue_inserted
        AFTER INSERT ON clientflow_invoices REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION clientflow_invoices_revenue_inserted()""",
    "DROP TRIGGER IF EXISTS clientflow_payments_revenue_inserted"
    " ON clientflow_payments",
    """CREATE TRIGGER clientflow_payments_revenue_inserted
        AFTER INSERT ON clientflow_payments REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION clientflow_payments_revenue_inserted()""",
    "DROP TRIGGER IF EXISTS clientflow_invoices_revenue ON clientflow_invoices",
    """CREATE TRIGGER clientflow_invoices_revenue
        AFTER DELETE ON clientflow_invoices FOR EACH ROW
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
            OR OLD.due_date IS DISTINCT FROM NEW.due_date
            OR OLD.total_minor IS DISTINCT FROM NEW.total_minor
            OR OLD.currency IS DISTINCT FROM NEW.currency
            OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id))
        EXECUTE FUNCTION clientflow_invoices_revenue()""",
    "DROP TRIGGER IF EXISTS clientflow_payments_revenue ON clientflow_payments",
    """CREATE TRIGGER clientflow_payments_revenue
        AFTER DELETE OR UPDATE OF invoice_id, paid_on, amount_minor
        ON clientflow_payments FOR EACH ROW
        EXECUTE FUNCTION clientflow_payments_revenue()""",
]
