"""The scheduler's table: one row per thing to do later for a patient, with its next fire time in
UTC. Daily rows carry the patient-local wall time and are re-armed in the transaction that fires
them; one-off rows end as done, skipped or failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, JSONType
from storage.models.core import BigId


class ScheduleItem(Base):
    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("patient_id", "key"),
        # Claim order (bot/scheduling/runner.py): a batch due at one instant is read in order.
        Index("ix_schedules_status_next_fire_at_id", "status", "next_fire_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    # One live row per (patient, key): a daily row's key is its kind, so re-scheduling replaces it.
    key: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    recurrence: Mapped[str] = mapped_column(String(8))  # daily, once
    local_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM" patient-local, daily
    # active, done, skipped, failed, cancelled
    status: Mapped[str] = mapped_column(String(16), default="active")
    next_fire_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed tries since last success
    missed: Mapped[int] = mapped_column(Integer, default=0)  # fires in a row with no reply
    last_fired_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
