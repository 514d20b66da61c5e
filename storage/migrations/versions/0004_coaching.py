"""coaching: coaches, credentials, escalations, takeovers, notes, safety plans

Revision ID: 0004_coaching
Revises: 0001_initial
Create Date: 2026-11-26 23:17:34.653315
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.models.base

revision: str = "0004_coaching"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coaches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("backup_id", sa.String(length=36), nullable=True),
        sa.Column("notify_channel", sa.String(length=16), nullable=True),
        sa.Column("notify_address", sa.String(length=128), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaches")),
        sa.UniqueConstraint("email", name=op.f("uq_coaches_email")),
    )
    op.create_table(
        "login_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_client_at", ["client", "at"], unique=False)
        batch_op.create_index("ix_login_attempts_email_at", ["email", "at"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("coach_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name=op.f("fk_api_tokens_coach_id_coaches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_coach_id"), ["coach_id"], unique=False)

    op.create_table(
        "coach_notes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("coach_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name=op.f("fk_coach_notes_coach_id_coaches")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_coach_notes_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_notes")),
    )
    with op.batch_alter_table("coach_notes", schema=None) as batch_op:
        batch_op.create_index("ix_coach_notes_patient_id_id", ["patient_id", "id"], unique=False)

    op.create_table(
        "coach_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("coach_id", sa.String(length=36), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name=op.f("fk_coach_sessions_coach_id_coaches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_sessions")),
    )
    with op.batch_alter_table("coach_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coach_sessions_coach_id"), ["coach_id"], unique=False)

    op.create_table(
        "escalations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("coach_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=36), nullable=True),
        sa.Column("acknowledged_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "backup_notified_at", storage.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("resolved_by", sa.String(length=36), nullable=True),
        sa.Column("resolved_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name=op.f("fk_escalations_coach_id_coaches")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_escalations_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_escalations_patient_id_status", ["patient_id", "status"], unique=False
        )
        batch_op.create_index("ix_escalations_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "safety_plans",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column(
            "sections",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_safety_plans_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_safety_plans")),
    )
    op.create_table(
        "takeovers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("coach_id", sa.String(length=36), nullable=False),
        sa.Column(
            "escalation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("started_at", storage.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", storage.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=36), nullable=True),
        sa.Column("resume", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name=op.f("fk_takeovers_coach_id_coaches")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_takeovers_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takeovers")),
    )
    with op.batch_alter_table("takeovers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_takeovers_patient_id_ended_at", ["patient_id", "ended_at"], unique=False
        )

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coach_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("program", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("bot_paused", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_patients_coach_id"), ["coach_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_coach_id"))
        batch_op.drop_column("bot_paused")
        batch_op.drop_column("program")
        batch_op.drop_column("coach_id")

    with op.batch_alter_table("takeovers", schema=None) as batch_op:
        batch_op.drop_index("ix_takeovers_patient_id_ended_at")

    op.drop_table("takeovers")
    op.drop_table("safety_plans")

    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_status_due_at")
        batch_op.drop_index("ix_escalations_patient_id_status")

    op.drop_table("escalations")
    with op.batch_alter_table("coach_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coach_sessions_coach_id"))

    op.drop_table("coach_sessions")
    with op.batch_alter_table("coach_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_coach_notes_patient_id_id")

    op.drop_table("coach_notes")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_coach_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_email_at")
        batch_op.drop_index("ix_login_attempts_client_at")

    op.drop_table("login_attempts")
    op.drop_table("coaches")
