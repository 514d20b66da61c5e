"""Channel tables: opt-out history, invite codes, provider message ids and delivery statuses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.models.core import BigId


class OptOut(Base):
    """Append-only: every opt-out and opt-in, why, and the status to return to on opt-in."""

    __tablename__ = "opt_outs"
    __table_args__ = (Index("ix_opt_outs_patient_id_id", "patient_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    action: Mapped[str] = mapped_column(String(3))  # out, in
    # keyword, provider_21610, blocked, status_callback
    reason: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(16))
    previous_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]


class Invite(Base):
    """An invite code (TANDEM_ENROLMENT=invite): used once, by the patient who enrolled with it."""

    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"))


class ProviderRef(Base):
    """Each provider message id a sent message produced (a long SMS may go out in parts)."""

    __tablename__ = "provider_refs"
    __table_args__ = (UniqueConstraint("channel", "provider_message_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    part: Mapped[int]
    created_at: Mapped[datetime]


class DeliveryStatus(Base):
    """Delivery receipts as they arrived, one row per (provider id, status): retries dedupe."""

    __tablename__ = "delivery_statuses"
    __table_args__ = (UniqueConstraint("channel", "provider_message_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime]
