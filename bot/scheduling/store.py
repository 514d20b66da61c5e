"""Reading and writing schedule rows, and the fire-time arithmetic they need (settings applied).

Every function works inside the caller's transaction, normally under the patient's lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from uuid import uuid4

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduling.timecalc import defer_to_allowed, next_daily_fire, validate_timezone
from bot.settings import Settings
from storage.models import Patient, ScheduleItem
from storage.statuses import ScheduleStatus


def parse_hhmm(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes))


def zone_of(patient: Patient) -> str:
    try:
        return validate_timezone(patient.timezone)
    except ValueError:
        return "UTC"  # a bad stored zone must not stop the patient's messages


def allowed_at(at: datetime, tz: str, settings: Settings) -> datetime:
    """`at`, or the next minute outside quiet hours in `tz`."""
    if settings.quiet_hours_start == settings.quiet_hours_end:
        return at  # no quiet hours configured
    # Messages are allowed from the end of quiet hours until their start.
    start, end = parse_hhmm(settings.quiet_hours_end), parse_hhmm(settings.quiet_hours_start)
    return defer_to_allowed(at, tz, start, end)


def next_daily(after: datetime, local_time: str, tz: str, settings: Settings) -> datetime:
    return allowed_at(next_daily_fire(after, parse_hhmm(local_time), tz), tz, settings)


async def find(session: AsyncSession, patient_id: str, key: str) -> ScheduleItem | None:
    rows = await session.execute(
        select(ScheduleItem).where(ScheduleItem.patient_id == patient_id, ScheduleItem.key == key)
    )
    return rows.scalar_one_or_none()


def _arm(item: ScheduleItem, *, status: str, fire_at: datetime | None, now: datetime) -> None:
    item.status, item.next_fire_at, item.updated_at = status, fire_at, now
    item.attempts, item.last_error = 0, None


async def set_daily(
    session: AsyncSession,
    patient: Patient,
    kind: str,
    local_time: str,
    data: Mapping[str, Any],
    now: datetime,
    settings: Settings,
) -> ScheduleItem:
    """Create or move the patient's daily `kind` (one per kind) to `local_time` ("HH:MM")."""
    fire_at = next_daily(now, local_time, zone_of(patient), settings)
    item = await find(session, patient.id, kind)
    if item is None:
        item = ScheduleItem(
            patient_id=patient.id, key=kind, missed=0, created_at=now, last_fired_at=None
        )
        session.add(item)
    item.kind, item.recurrence, item.local_time, item.payload = (
        kind,
        "daily",
        local_time,
        dict(data),
    )
    _arm(item, status=ScheduleStatus.ACTIVE, fire_at=fire_at, now=now)
    await session.flush()
    return item


async def add_once(
    session: AsyncSession,
    patient: Patient,
    kind: str,
    at: datetime,
    data: Mapping[str, Any],
    now: datetime,
    settings: Settings,
) -> ScheduleItem:
    """A one-off at `at`; the same kind and `data["key"]` replaces the earlier one."""
    key = f"{kind}:{data['key']}" if "key" in data else f"{kind}:{uuid4()}"
    item = await find(session, patient.id, key)
    if item is None:
        item = ScheduleItem(patient_id=patient.id, key=key, missed=0, created_at=now)
        session.add(item)
    item.kind, item.recurrence, item.local_time, item.payload = kind, "once", None, dict(data)
    _arm(
        item,
        status=ScheduleStatus.ACTIVE,
        fire_at=allowed_at(at, zone_of(patient), settings),
        now=now,
    )
    await session.flush()
    return item


async def cancel(session: AsyncSession, patient_id: str, key: str, now: datetime) -> int:
    result = await session.execute(
        update(ScheduleItem)
        .where(
            ScheduleItem.patient_id == patient_id,
            ScheduleItem.key == key,
            ScheduleItem.status == ScheduleStatus.ACTIVE,
        )
        .values(status=ScheduleStatus.CANCELLED, next_fire_at=None, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
