"""A patient's data rights: export everything held about them, erase it, and purge old message
bodies (TANDEM_RETENTION_DAYS). README "Data rights".

Both work from the table metadata rather than a fixed list, so a table an area adds later (any
table with a `patient_id` column) is exported and erased too: its free-text (Text) and JSON
columns are blanked, as are the identifier columns named in IDENTIFIERS. Events keep their kind,
time and numeric values (scores, counts: de-identified measures for research) and lose every
string; a `patient_erased` event is the tombstone. The patient row stays (other rows refer to
it) with status "erased", which the API and console answer as unknown (404).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Table, Text, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.db import Database
from storage.models import (
    Base,
    ChannelIdentity,
    Event,
    FlowRun,
    Message,
    OutboxItem,
    Patient,
    ScheduleItem,
)
from storage.statuses import OutboxStatus, RunStatus, ScheduleStatus

ERASED = "erased"
IDENTIFIERS = frozenset(
    {"address", "display_name", "provider_message_id", "payload", "consent_by", "note", "label"}
)
_LISTS = frozenset({"stack", "choices"})


def _patient_tables() -> list[Table]:
    return [
        t
        for t in Base.metadata.sorted_tables
        if "patient_id" in t.c and t.name not in ("events", "patients")
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


async def export(session: AsyncSession, patient_id: str) -> dict[str, Any] | None:
    """Everything held about the patient, table by table; None when unknown or erased."""
    patient = await session.get(Patient, patient_id)
    if patient is None or patient.status == ERASED:
        return None
    profile = {c.name: _plain(getattr(patient, c.key)) for c in Patient.__table__.columns}
    out: dict[str, Any] = {"profile": profile}
    for table in [*_patient_tables(), Base.metadata.tables["events"]]:
        rows = await session.execute(
            select(table).where(table.c.patient_id == patient_id).order_by(*table.primary_key)
        )
        out[table.name] = [{k: _plain(v) for k, v in row._mapping.items()} for row in rows]
    return out


def _blank(column: Any) -> Any:
    if column.nullable:
        return None
    if isinstance(column.type, JSON) or "JSON" in type(column.type).__name__:
        return [] if column.name in _LISTS else {}
    return ""


def _erasable(column: Any) -> bool:
    if column.primary_key or column.foreign_keys:
        return False
    kind = column.type
    return isinstance(kind, (Text, JSON)) or column.name in IDENTIFIERS or "JSON" in repr(kind)


async def erase(session: AsyncSession, patient_id: str, now: datetime, by: str) -> bool:
    """Erase the (locked) patient's identifiers, bodies and free text everywhere; False when
    unknown or already erased. Runs in the caller's transaction."""
    patient = await repo.lock_patient(session, patient_id)
    if patient is None or patient.status == ERASED:
        return False
    await session.execute(delete(ChannelIdentity).where(ChannelIdentity.patient_id == patient_id))
    await session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.patient_id == patient_id,
            OutboxItem.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
        )
        .values(status=OutboxStatus.FAILED)
    )
    await session.execute(
        update(ScheduleItem)
        .where(ScheduleItem.patient_id == patient_id, ScheduleItem.status == ScheduleStatus.ACTIVE)
        .values(status=ScheduleStatus.CANCELLED)
    )
    await session.execute(
        update(FlowRun).where(FlowRun.patient_id == patient_id).values(status=RunStatus.ENDED)
    )
    for table in _patient_tables():
        values = {c.name: _blank(c) for c in table.columns if _erasable(c)}
        if values and table.name != ChannelIdentity.__tablename__:
            await session.execute(
                update(table).where(table.c.patient_id == patient_id).values(**values)
            )
    rows = await session.execute(select(Event).where(Event.patient_id == patient_id))
    for event in rows.scalars():
        event.data = {
            k: v for k, v in (event.data or {}).items() if isinstance(v, (int, float, bool))
        }
    patient.display_name = patient.consent_text = patient.consent_by = None
    patient.consent_method = patient.checkin_time = None
    patient.status = ERASED
    patient.bot_paused = True
    await repo.log(session, now, "patient_erased", patient_id, {"by": by})
    return True


async def purge_bodies(db: Database, now: datetime, days: int) -> int:
    """Blank message bodies (and their outbox copies) older than `days`; returns the count."""
    cutoff = now - timedelta(days=days)
    async with db.session() as session, session.begin():
        result = await session.execute(
            update(Message)
            .where(Message.created_at < cutoff, Message.body != "")
            .values(body="", payload=None, error=None)
        )
        await session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.created_at < cutoff,
                OutboxItem.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED)),
                OutboxItem.body != "",
            )
            .values(body="", choices=[], last_error=None)
        )
        count = int(getattr(result, "rowcount", 0) or 0)
        await repo.log(session, now, "retention_purge", None, {"messages": count, "days": days})
    return count
