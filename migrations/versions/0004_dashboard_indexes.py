"""covering indexes for the dashboard's sums

The dashboard adds up invoice totals by issue date and by due date, and
payments by date, straight from these indexes without reading the tables.
Each new index starts with the columns of the one it replaces, so every
query that used the old one can use the new one.

Revision ID: cf_0004_dashboard_indexes
Revises: cf_0003_import_files
Create Date: 2026-12-04 16:40:00
"""

from alembic import op

revision = "cf_0004_dashboard_indexes"
down_revision = "cf_0003_import_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_clientflow_invoices_ws_state_issue", "clientflow_invoices")
    op.create_index(
        "ix_clientflow_invoices_ws_state_issue_total",
        "clientflow_invoices",
        ["workspace_id", "state", "issue_date", "total_minor"],
    )
    op.create_index(
        "ix_clientflow_invoices_ws_state_due_total",
        "clientflow_invoices",
        ["workspace_id", "state", "due_date", "total_minor"],
    )
    op.drop_index("ix_clientflow_payments_ws_paid_on", "clientflow_payments")
    op.create_index(
        "ix_clientflow_payments_ws_paid_on_amount",
        "clientflow_payments",
        ["workspace_id", "paid_on", "amount_minor", "invoice_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_clientflow_payments_ws_paid_on_amount", "clientflow_payments")
    op.create_index(
        "ix_clientflow_payments_ws_paid_on",
        "clientflow_payments",
        ["workspace_id", "paid_on"],
    )
    op.drop_index("ix_clientflow_invoices_ws_state_due_total", "clientflow_invoices")
    op.drop_index("ix_clientflow_invoices_ws_state_issue_total", "clientflow_invoices")
    op.create_index(
        "ix_clientflow_invoices_ws_state_issue",
        "clientflow_invoices",
        ["workspace_id", "state", "issue_date"],
    )
