"""safety: safety-check state and its answer deadline per patient, screener answers per escalation

Revision ID: 0009_safety
Revises: 0004_coaching
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.models.base

revision: str = "0009_safety"
down_revision: str | Sequence[str] | None = "0004_coaching"  # both columns sit beside coaching's
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("safety_state", _JSON, nullable=True))
        batch_op.add_column(
            sa.Column("safety_check_due", storage.models.base.UTCDateTime(timezone=True))
        )
        batch_op.create_index("ix_patients_safety_check_due", ["safety_check_due"], unique=False)
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("screening", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_column("screening")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index("ix_patients_safety_check_due")
        batch_op.drop_column("safety_check_due")
        batch_op.drop_column("safety_state")
