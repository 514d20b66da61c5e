"""The research tables: who is in which study arm, the allocation counters that keep arms balanced
within each block and stratum, and one row per micro-randomized decision (MRT) with everything an
analyst needs to replay it. Export reads these; nothing here holds a phone number or a body."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, JSONType
from storage.models.core import BigId


class StudyEnrolment(Base):
    """A patient's place in the study: allocated once at enrolment and never changed."""

    __tablename__ = "study_enrolments"
    __table_args__ = (UniqueConstraint("study_id", "participant_id"),)

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    study_id: Mapped[str] = mapped_column(String(64))
    # Pseudonymous and stable per study: the only id an export carries.
    participant_id: Mapped[str] = mapped_column(String(32))
    arm: Mapped[str] = mapped_column(String(64))
    stratum: Mapped[str] = mapped_column(String(128))  # "" when the design has no strata
    block_index: Mapped[int] = mapped_column(Integer)  # which block of the stratum's sequence
    block_position: Mapped[int] = mapped_column(Integer)  # place within that block
    enrolled_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]


class StudyStratum(Base):
    """How many patients a stratum has allocated so far; its row lock serializes allocation."""

    __tablename__ = "study_strata"

    study_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stratum: Mapped[str] = mapped_column(String(128), primary_key=True)
    allocated: Mapped[int] = mapped_column(Integer, default=0)


class StudyDecision(Base):
    """One micro-randomized decision for one participant at one decision point occurrence."""

    __tablename__ = "study_decisions"
    __table_args__ = (
        UniqueConstraint("patient_id", "decision_point", "decision_index"),
        Index("ix_study_decisions_status_scheduled_utc", "status", "scheduled_utc"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    study_id: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    participant_id: Mapped[str] = mapped_column(String(32))
    decision_point: Mapped[str] = mapped_column(String(64))
    decision_index: Mapped[int] = mapped_column(Integer)  # 0-based occurrence for the patient
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, decided
    timezone: Mapped[str] = mapped_column(String(64))  # in force when the decision was made
    scheduled_utc: Mapped[datetime]
    scheduled_local: Mapped[str] = mapped_column(String(19))  # ISO "YYYY-MM-DDTHH:MM:SS"
    decided_utc: Mapped[datetime | None]
    decided_local: Mapped[str | None] = mapped_column(String(19))
    available: Mapped[bool | None] = mapped_column(Boolean)
    # Typed reasons the patient was unavailable (crisis, takeover, paused, ...); empty if available.
    unavailable_reasons: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    probabilities: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # action -> p
    action: Mapped[str | None] = mapped_column(String(64))
    probability: Mapped[float | None] = mapped_column(Float)  # of the action drawn
    seed: Mapped[str | None] = mapped_column(String(128))  # the stream that replays the draw
    policy_version: Mapped[str | None] = mapped_column(String(64))
    proximal_due_at: Mapped[datetime | None] = mapped_column(index=True)
    proximal_outcome: Mapped[float | None] = mapped_column(Float)
    proximal_outcome_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
