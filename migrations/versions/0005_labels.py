"""labels: quality labels per project and dataset (uploaded, from the sample browser, or from the LLM judge)

Revision ID: 0005_labels
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_labels"
down_revision = "0004_reliability"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("raw", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("value >= 0 AND value <= 1", name="ck_labels_value_range"),
        sa.CheckConstraint("source IN ('upload', 'browser', 'judge')", name="ck_labels_source"),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dataset_id", "idx"),
    )
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labels_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labels_project_id"))

    op.drop_table("labels")
