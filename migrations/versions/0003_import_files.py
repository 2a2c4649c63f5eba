"""import files: CSV files checked on the import page, kept until imported

Revision ID: cf_0003_import_files
Revises: cf_0002_hour_pack_purchase
Create Date: 2026-12-04 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "cf_0003_import_files"
down_revision = "cf_0002_hour_pack_purchase"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clientflow_import_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("encrypted_content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_clientflow_import_files_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_clientflow_import_files_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clientflow_import_files")),
    )
    with op.batch_alter_table("clientflow_import_files", schema=None) as batch_op:
        batch_op.create_index(
            "ix_clientflow_import_files_ws_batch",
            ["workspace_id", "batch"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_clientflow_import_files_workspace_id"),
            ["workspace_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("clientflow_import_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clientflow_import_files_workspace_id"))
        batch_op.drop_index("ix_clientflow_import_files_ws_batch")

    op.drop_table("clientflow_import_files")
