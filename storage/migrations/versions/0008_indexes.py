"""indexes for hot lookups: latest event of a kind per patient; outbox claims by priority

Revision ID: 0008_indexes
Revises: 0001_initial
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_indexes"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_patient_kind_id", ["patient_id", "kind", "id"], unique=False
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_status_priority_id", ["status", "priority", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_priority_id")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_patient_kind_id")
