"""Small repository functions shared by the pipeline, the dispatcher and the CLI.

Every function takes an open session inside a transaction: the caller decides what commits together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ChannelIdentity,
    Event,
    FlowRun,
    FlowVersion,
    Message,
    OutboxItem,
    Patient,
)
from storage.writes import buffer_of


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def find_patient(
    session: AsyncSession, channel: str, address: str, *, lock: bool = False
) -> Patient | None:
    """The patient behind (channel, address); `lock` also takes their conversation lock."""
    query = (
        select(Patient)
        .join(ChannelIdentity, ChannelIdentity.patient_id == Patient.id)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.address == address)
    )
    if lock:
        query = query.execution_options(populate_existing=True)
        if is_postgres(session):
            query = query.with_for_update(of=Patient)
    return (await session.execute(query)).scalar_one_or_none()


async def get_or_create_patient(
    session: AsyncSession,
    channel: str,
    address: str,
    now: datetime,
    *,
    locale: str,
    timezone: str,
    lock: bool = False,
) -> tuple[Patient, bool]:
    """The patient behind (channel, address), enrolling a new one on first contact.

    With `lock`, an existing patient comes back with their conversation lock held (a new one is
    not visible to anyone else until commit).
    """
    existing = await find_patient(session, channel, address, lock=lock)
    if existing is not None:
        return existing, False
    patient = Patient(
        id=str(uuid4()), created_at=now, locale=locale, timezone=timezone, status="active"
    )
    session.add(patient)
    await session.flush()
    inserted = await session.execute(
        _insert(session, ChannelIdentity)
        .values(patient_id=patient.id, channel=channel, address=address, created_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "address"])
        .returning(ChannelIdentity.id)
    )
    if inserted.scalar_one_or_none() is None:
        # Another request enrolled the same address first: use theirs.
        await session.delete(patient)
        await session.flush()
        winner = await find_patient(session, channel, address, lock=lock)
        assert winner is not None
        return winner, False
    await log(session, now, "patient_enrolled", patient.id, {"channel": channel})
    return patient, True


async def insert_inbound(
    session: AsyncSession,
    patient_id: str,
    channel: str,
    provider_message_id: str | None,
    body: str,
    payload: str | None,
    now: datetime,
) -> int | None:
    """Store an inbound message; None when this provider id was stored before (a retry)."""
    result = await session.execute(
        _insert(session, Message)
        .values(
            patient_id=patient_id,
            direction="in",
            channel=channel,
            provider_message_id=provider_message_id,
            body=body,
            payload=payload,
            status="received",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel", "provider_message_id"])
        .returning(Message.id)
    )
    return result.scalar_one_or_none()


async def lock_patient(session: AsyncSession, patient_id: str) -> Patient | None:
    """Take the patient's conversation lock: a row lock on PostgreSQL.

    SQLite needs nothing more: every transaction there starts with BEGIN IMMEDIATE, which already
    serializes writers.
    """
    query = (
        select(Patient).where(Patient.id == patient_id).execution_options(populate_existing=True)
    )
    if is_postgres(session):
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def pending_inbound(session: AsyncSession, patient_id: str) -> list[Message]:
    rows = await session.execute(
        select(Message)
        .where(
            Message.patient_id == patient_id,
            Message.direction == "in",
            Message.status == "received",
        )
        .order_by(Message.id)
    )
    return list(rows.scalars())


async def active_run(session: AsyncSession, patient_id: str) -> FlowRun | None:
    rows = await session.execute(
        select(FlowRun)
        .where(FlowRun.patient_id == patient_id, FlowRun.status != "ended")
        .order_by(FlowRun.id.desc())
        .limit(1)
    )
    return rows.scalar_one_or_none()


async def enqueue(
    session: AsyncSession,
    patient_id: str,
    channel: str,
    address: str,
    body: str,
    now: datetime,
    *,
    choices: list[Any] | None = None,
    priority: int = 0,
    flush: bool = True,
) -> OutboxItem:
    """An outbound message and its outbox row, written in the caller's transaction.

    Without `flush` the rows wait for the session's next flush (ids unset until then), so a step
    that sends several messages writes them in one batch.
    """
    message = Message(
        patient_id=patient_id,
        direction="out",
        channel=channel,
        body=body,
        status="queued",
        created_at=now,
        updated_at=now,
    )
    item = OutboxItem(
        patient_id=patient_id,
        message=message,
        channel=channel,
        address=address,
        body=body,
        choices=choices or [],
        priority=priority,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    if flush:
        await session.flush()
    return item


async def primary_identity(session: AsyncSession, patient_id: str) -> ChannelIdentity | None:
    """The channel a patient last wrote from is where replies go."""
    rows = await session.execute(
        select(ChannelIdentity)
        .where(ChannelIdentity.patient_id == patient_id)
        .order_by(ChannelIdentity.id.desc())
        .limit(1)
    )
    return rows.scalar_one_or_none()


async def save_flow_version(
    session: AsyncSession, flow_id: str, version: str, snapshot: Mapping[str, Any], now: datetime
) -> None:
    await session.execute(
        _insert(session, FlowVersion)
        .values(flow_id=flow_id, version=version, snapshot=dict(snapshot), created_at=now)
        .on_conflict_do_nothing(index_elements=["flow_id", "version"])
    )


async def load_flow_version(
    session: AsyncSession, flow_id: str, version: str
) -> Mapping[str, Any] | None:
    rows = await session.execute(
        select(FlowVersion.snapshot).where(
            FlowVersion.flow_id == flow_id, FlowVersion.version == version
        )
    )
    return rows.scalar_one_or_none()


async def log(
    session: AsyncSession,
    at: datetime,
    kind: str,
    patient_id: str | None,
    data: Mapping[str, Any] | None = None,
    *,
    flow_id: str | None = None,
    flow_version: str | None = None,
) -> None:
    """Append to the event log (never updated, never deleted)."""
    buffer = buffer_of(session)
    if buffer is not None:  # the lean inbound path: one batched INSERT per turn
        buffer.event(
            {
                "at": at,
                "kind": kind,
                "patient_id": patient_id,
                "flow_id": flow_id,
                "flow_version": flow_version,
                "data": dict(data or {}),
            }
        )
        return
    session.add(
        Event(
            at=at,
            kind=kind,
            patient_id=patient_id,
            flow_id=flow_id,
            flow_version=flow_version,
            data=dict(data or {}),
        )
    )
