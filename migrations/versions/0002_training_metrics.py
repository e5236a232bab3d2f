"""training metrics

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 07:38:32.797863
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_metrics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("training_metrics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_metrics_job_id"), ["job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_metrics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_metrics_job_id"))

    op.drop_table("training_metrics")
