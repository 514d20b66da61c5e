"""safety: the patient's safety-check state and the screener answers shown on an escalation

Revision ID: 0009_safety
Revises: 0004_coaching
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_safety"
down_revision: str | Sequence[str] | None = "0004_coaching"  # both columns sit beside coaching's
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("safety_state", _JSON, nullable=True))
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("screening", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_column("screening")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("safety_state")
