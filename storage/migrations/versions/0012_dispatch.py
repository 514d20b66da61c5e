"""flat dispatch: a partial index of pending outbox rows in claim order

Replaces ix_outbox_status_priority_id (every row, ascending priority), which the claim's
ORDER BY priority DESC, id could not walk in order: it sorted every pending row on each claim.

Revision ID: 0012_dispatch
Revises: 0008_indexes
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_dispatch"
down_revision: str | Sequence[str] | None = "0008_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_priority_id")
        batch_op.create_index(
            "ix_outbox_pending_priority_id",
            [sa.column("priority").desc(), "id"],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending_priority_id")
        batch_op.create_index(
            "ix_outbox_status_priority_id", ["status", "priority", "id"], unique=False
        )
