"""hour pack purchases: deleting a purchase draft deletes its pack

Revision ID: cf_0002_hour_pack_purchase
Revises: cf_0001
Create Date: 2026-12-04 17:00:00
"""

from alembic import op

revision = "cf_0002_hour_pack_purchase"
down_revision = "cf_0001"
branch_labels = None
depends_on = None

FK = "fk_clientflow_hour_packs_purchase_invoice_id_clientflow_invoices"
INDEX = "ix_clientflow_hour_packs_purchase_invoice_id"


def upgrade() -> None:
    with op.batch_alter_table("clientflow_hour_packs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(FK), type_="foreignkey")
        batch_op.create_foreign_key(
            op.f(FK),
            "clientflow_invoices",
            ["purchase_invoice_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(INDEX, ["purchase_invoice_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clientflow_hour_packs", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_constraint(op.f(FK), type_="foreignkey")
        batch_op.create_foreign_key(
            op.f(FK),
            "clientflow_invoices",
            ["purchase_invoice_id"],
            ["id"],
            ondelete="SET NULL",
        )
