"""alerts: staff alerts in the outbox, safeguarding and who-was-alerted on escalations

Revision ID: 0011_alerts
Revises: 0008_indexes
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_alerts"
down_revision: str | Sequence[str] | None = "0008_indexes"
branch_labels: str | Sequence[str] | None = None
# The escalations table comes from the coaching branch.
depends_on: str | Sequence[str] | None = "0004_coaching"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audience", sa.String(length=8), server_default="patient", nullable=False)
        )
        batch_op.alter_column("patient_id", existing_type=sa.String(length=36), nullable=True)
        batch_op.alter_column(
            "message_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("safeguarding", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("alerted", sa.String(length=8), server_default="nobody", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_column("alerted")
        batch_op.drop_column("safeguarding")
    op.execute("DELETE FROM outbox WHERE audience = 'staff'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "message_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        )
        batch_op.alter_column("patient_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_column("audience")
