"""channels: opt-out history, invites, provider message ids, delivery statuses

Revision ID: 0002_channels
Revises: 0001_initial
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models.base

revision: str = "0002_channels"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", BIG_ID, autoincrement=True, nullable=False)


def _utc(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, storage.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "opt_outs",
        _id(),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("previous_status", sa.String(length=16), nullable=False),
        _utc("at", False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_opt_outs_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_outs")),
    )
    with op.batch_alter_table("opt_outs", schema=None) as batch_op:
        batch_op.create_index("ix_opt_outs_patient_id_id", ["patient_id", "id"], unique=False)

    op.create_table(
        "invites",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        _utc("created_at", False),
        _utc("used_at", True),
        sa.Column("patient_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_invites_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_invites")),
    )

    op.create_table(
        "provider_refs",
        _id(),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=False),
        sa.Column("message_id", BIG_ID, nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        _utc("created_at", False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_provider_refs_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_refs")),
        sa.UniqueConstraint(
            "channel",
            "provider_message_id",
            name=op.f("uq_provider_refs_channel_provider_message_id"),
        ),
    )
    with op.batch_alter_table("provider_refs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_refs_message_id"), ["message_id"], unique=False
        )

    op.create_table(
        "delivery_statuses",
        _id(),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=False),
        sa.Column("message_id", BIG_ID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        _utc("received_at", False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_delivery_statuses_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_statuses")),
        sa.UniqueConstraint(
            "channel",
            "provider_message_id",
            "status",
            name=op.f("uq_delivery_statuses_channel_provider_message_id_status"),
        ),
    )
    with op.batch_alter_table("delivery_statuses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_statuses_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("delivery_statuses")
    op.drop_table("provider_refs")
    op.drop_table("invites")
    op.drop_table("opt_outs")
