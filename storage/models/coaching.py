"""Coaching tables: coaches and their credentials, escalations, takeovers, notes, safety plans.

The patient's coach (`patients.coach_id`) and the bot pause flag (`patients.bot_paused`) live on
the patients table (columns added by migration 0004_coaching, declared in core.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, JSONType
from storage.models.core import BigId


class Coach(Base):
    """A staff user: coach, supervisor or admin."""

    __tablename__ = "coaches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))  # coach, supervisor, admin
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    backup_id: Mapped[str | None] = mapped_column(String(36))
    # Where alerts reach the coach's own phone ("sms" / "telegram" and an address), if anywhere.
    notify_channel: Mapped[str | None] = mapped_column(String(16))
    notify_address: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    coach_id: Mapped[str] = mapped_column(ForeignKey("coaches.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class CoachSession(Base):
    """A console login session (server side); the cookie holds the token, we keep its hash."""

    __tablename__ = "coach_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie token
    coach_id: Mapped[str] = mapped_column(ForeignKey("coaches.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class LoginAttempt(Base):
    """Login attempts, for throttling by email and by client address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254))
    client: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime]


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_status_due_at", "status", "due_at"),
        Index("ix_escalations_patient_id_status", "patient_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    # risk, human_request, disengaged, worsening, undeliverable
    reason: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))  # urgent, high, normal
    detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # open, acknowledged, resolved
    coach_id: Mapped[str | None] = mapped_column(ForeignKey("coaches.id"))  # None: the pool
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]  # acknowledge by
    acknowledged_by: Mapped[str | None] = mapped_column(String(36))
    acknowledged_at: Mapped[datetime | None]
    backup_notified_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(36))
    resolved_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    # The safety check's answers (bot/coaching/screener.py), shown to the coach (0009_safety).
    screening: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Migration 0011_alerts. A disclosure of abuse of a minor: coaches see the reporting guidance.
    safeguarding: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Who has been told so far (bot.coaching.escalations.alerted): coach, oncall or nobody.
    alerted: Mapped[str] = mapped_column(String(8), default="nobody", server_default="nobody")


class Takeover(Base):
    __tablename__ = "takeovers"
    __table_args__ = (Index("ix_takeovers_patient_id_ended_at", "patient_id", "ended_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    coach_id: Mapped[str] = mapped_column(ForeignKey("coaches.id"))
    escalation_id: Mapped[int | None] = mapped_column(BigId)
    started_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(36))
    resume: Mapped[str | None] = mapped_column(String(16))  # flow, menu
    outcome: Mapped[str | None] = mapped_column(Text)


class CoachNote(Base):
    __tablename__ = "coach_notes"
    __table_args__ = (Index("ix_coach_notes_patient_id_id", "patient_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    coach_id: Mapped[str] = mapped_column(ForeignKey("coaches.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class SafetyPlan(Base):
    """The patient's own safety plan: sections of their words, sent back on "SOS" or "plan"."""

    __tablename__ = "safety_plans"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    # warning_signs, coping, people, professionals, reasons: the patient's words
    sections: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
