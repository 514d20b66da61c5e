"""study: arms allocated at enrolment, per-stratum allocation counters, micro-randomized decisions

Revision ID: 0013_study
Revises: 0014_inbound
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_study"
down_revision: str | Sequence[str] | None = "0014_inbound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "study_enrolments",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("study_id", sa.String(length=64), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("arm", sa.String(length=64), nullable=False),
        sa.Column("stratum", sa.String(length=128), nullable=False),
        sa.Column("block_index", sa.Integer(), nullable=False),
        sa.Column("block_position", sa.Integer(), nullable=False),
        _ts("enrolled_at"),
        _ts("withdrawn_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_study_enrolments_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_study_enrolments")),
        sa.UniqueConstraint(
            "study_id",
            "participant_id",
            name=op.f("uq_study_enrolments_study_id_participant_id"),
        ),
    )
    op.create_table(
        "study_strata",
        sa.Column("study_id", sa.String(length=64), nullable=False),
        sa.Column("stratum", sa.String(length=128), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("study_id", "stratum", name=op.f("pk_study_strata")),
    )
    op.create_table(
        "study_decisions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("study_id", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("decision_point", sa.String(length=64), nullable=False),
        sa.Column("decision_index", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        _ts("scheduled_utc"),
        sa.Column("scheduled_local", sa.String(length=19), nullable=False),
        _ts("decided_utc", nullable=True),
        sa.Column("decided_local", sa.String(length=19), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=True),
        sa.Column("unavailable_reasons", _JSON, nullable=False),
        sa.Column("probabilities", _JSON, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=True),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("seed", sa.String(length=128), nullable=True),
        sa.Column("policy_version", sa.String(length=64), nullable=True),
        _ts("proximal_due_at", nullable=True),
        sa.Column("proximal_outcome", sa.Float(), nullable=True),
        _ts("proximal_outcome_at", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_study_decisions_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_decisions")),
        sa.UniqueConstraint(
            "patient_id",
            "decision_point",
            "decision_index",
            name=op.f("uq_study_decisions_patient_id_decision_point_decision_index"),
        ),
    )
    op.create_index(
        "ix_study_decisions_status_scheduled_utc",
        "study_decisions",
        ["status", "scheduled_utc"],
        unique=False,
    )
    op.create_index(
        op.f("ix_study_decisions_proximal_due_at"),
        "study_decisions",
        ["proximal_due_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_study_decisions_proximal_due_at"), table_name="study_decisions")
    op.drop_index("ix_study_decisions_status_scheduled_utc", table_name="study_decisions")
    op.drop_table("study_decisions")
    op.drop_table("study_strata")
    op.drop_table("study_enrolments")
