"""Changing a patient's schedule: check-in time, pause, resume. Patients reach these through
text commands ("time 8am", "pausa 7", "resume"); coaches and the API call them directly.

Each function works in the caller's transaction, with the patient's lock held.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduling import store
from bot.scheduling.store import parse_hhmm
from bot.settings import Settings
from storage import repo
from storage.models import Patient, ScheduleItem

CHECKIN = "checkin"


def in_quiet_hours(at: time, settings: Settings) -> bool:
    start, end = parse_hhmm(settings.quiet_hours_start), parse_hhmm(settings.quiet_hours_end)
    if start == end:
        return False
    if start > end:  # e.g. 21:00-08:00, across midnight
        return at >= start or at < end
    return start <= at < end


async def set_checkin_time(
    session: AsyncSession, patient: Patient, at: time, now: datetime, settings: Settings
) -> ScheduleItem:
    """Move the daily check-in to `at` patient-local (creating it if there is none)."""
    local = f"{at.hour:02d}:{at.minute:02d}"
    existing = await store.find(session, patient.id, CHECKIN)
    data = dict(existing.payload) if existing is not None else {"flow": CHECKIN}
    patient.checkin_time = local
    item = await store.set_daily(session, patient, CHECKIN, local, data, now, settings)
    await repo.log(session, now, "checkin_time_set", patient.id, {"local_time": local})
    return item


async def pause(
    session: AsyncSession, patient: Patient, days: int | None, now: datetime, by: str = "patient"
) -> None:
    """Pause everything scheduled for `days` days (None: until resumed)."""
    patient.status = "paused"
    patient.paused_until = now + timedelta(days=days) if days else None
    until = patient.paused_until.isoformat() if patient.paused_until else None
    await repo.log(session, now, "paused", patient.id, {"days": days, "until": until, "by": by})


async def resume(
    session: AsyncSession, patient: Patient, now: datetime, by: str = "patient"
) -> bool:
    """End a pause; False when the patient was not paused (opt-outs are not lifted here)."""
    if patient.status != "paused":
        return False
    patient.status, patient.paused_until = "active", None
    await repo.log(session, now, "resumed", patient.id, {"by": by})
    return True
