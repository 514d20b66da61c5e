"""The foundation's tables: patients, their channel identities, flow runs, messages, the outbox and
the append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, JSONType

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime]
    locale: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    # active, paused, opted_out, discharged
    status: Mapped[str] = mapped_column(String(16), default="active")
    display_name: Mapped[str | None] = mapped_column(String(80))
    checkin_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM" patient-local
    consent_given: Mapped[bool | None] = mapped_column(Boolean)
    consent_at: Mapped[datetime | None]
    consent_method: Mapped[str | None] = mapped_column(String(32))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_by: Mapped[str | None] = mapped_column(String(120))
    # Scheduling (migration 0003_scheduling): a pause that ends by itself; whether the patient
    # confirmed a zone guessed from a phone number whose country spans several.
    paused_until: Mapped[datetime | None]
    timezone_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    # Coaching (migration 0004_coaching): the patient's coach (None: the pool), and whether
    # automated program content is paused (open risk escalation or a coach's takeover).
    coach_id: Mapped[str | None] = mapped_column(String(36), index=True)
    bot_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    program: Mapped[str | None] = mapped_column(String(64))  # chosen at enrolment (API)
    # Safety (migration 0009_safety): the open safety check and when the patient last got a
    # "we're holding for your coach" acknowledgement or the crisis menu (bot/coaching/held.py).
    safety_state: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # When an open safety check counts as unanswered (bot/coaching/safetycheck.py).
    safety_check_due: Mapped[datetime | None] = mapped_column(index=True)
    # Where the patient says they are (ISO alpha-2; migration 0010_country): picks their crisis
    # lines ahead of their phone number's country and TANDEM_DEFAULT_COUNTRY.
    country: Mapped[str | None] = mapped_column(String(2))
    # The program menu this patient has open (migration 0014_inbound, bot/menu.py): read from
    # the locked row on every message instead of looking up the event log.
    menu_state: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class ChannelIdentity(Base):
    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class FlowRun(Base):
    __tablename__ = "flow_runs"
    __table_args__ = (Index("ix_flow_runs_patient_status", "patient_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    run_key: Mapped[str] = mapped_column(String(36))  # the engine's id for this top-level run
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    variables: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    stack: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, waiting, ended
    waiting_since: Mapped[datetime | None]
    timeout_at: Mapped[datetime | None] = mapped_column(index=True)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))


class FlowVersion(Base):
    """Every flow version a run was started on, so editing a flow never breaks a run in flight."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    flow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime]


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_message_id"),
        Index("ix_messages_patient_id_id", "patient_id", "id"),
        Index("ix_messages_status_direction", "status", "direction"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    channel: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(String(256))
    # in: received, processed, failed; out: queued, sent, delivered, undelivered, failed
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxItem(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_patient_status_id", "patient_id", "status", "id"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # "patient": a message to the patient (patient_id and message_id set); "staff": an alert to a
    # coach's or the on-call phone (migration 0011_alerts). Staff rows have no patient and no
    # message, so they never show in a transcript, never queue behind (or block) a patient's
    # messages and are never cancelled by a patient's opt-out.
    audience: Mapped[str] = mapped_column(String(8), default="patient", server_default="patient")
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # Lets a step queue many messages with one batched INSERT per table at flush time.
    message: Mapped[Message | None] = relationship(lazy="raise")
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    # Higher goes first for the same patient: crisis replies jump the queue.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # pending, sending, sent, failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


# The dispatcher claims pending rows most urgent first, oldest first. Partial, so its size is the
# queue's, not the history's, and the claim's ORDER BY walks it in order (no sort of every pending
# row however deep the queue).
Index(
    "ix_outbox_pending_priority_id",
    OutboxItem.priority.desc(),
    OutboxItem.id,
    postgresql_where=text("status = 'pending'"),
    sqlite_where=text("status = 'pending'"),
)


class Event(Base):
    """Append-only audit and research log: state changes, answers, measures, deliveries."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_patient_id_id", "patient_id", "id"),
        # "The latest event of this kind for this patient" without scanning their whole history.
        Index("ix_events_patient_kind_id", "patient_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    patient_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(48))
    flow_id: Mapped[str | None] = mapped_column(String(64))
    flow_version: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
