"""job eta: the seconds a running job has left, as its worker last estimated them

Revision ID: 0006_job_eta
Revises: 0005_labels
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_job_eta"
down_revision = "0005_labels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("eta_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("eta_seconds")
