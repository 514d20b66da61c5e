"""Changing a patient's schedule: check-in time, time zone, pause, resume. Patients reach these
through text commands ("time 8am", "pausa 7", "resume") and onboarding; coaches and the API call
them directly (`by` names who did it in the event log).

Each function works in the caller's transaction, with the patient's lock held.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduling import measures, store
from bot.scheduling.store import next_daily, parse_hhmm
from bot.scheduling.timecalc import validate_timezone
from bot.settings import Settings
from storage import repo
from storage.models import Patient, ScheduleItem
from storage.statuses import PatientStatus, ScheduleStatus

CHECKIN = "checkin"
# A coach, the API or a text command may only change the schedule of a patient in these states:
# an opt-out (STOP) or a discharge is never turned back into check-ins by a schedule change.
SCHEDULABLE = frozenset({"active", "paused"})


class PatientStateError(Exception):
    """The patient's state forbids this change (the API and console answer 409)."""


def ensure_schedulable(patient: Patient) -> None:
    """The one rule every caller (console, API, text commands) goes through."""
    if patient.status not in SCHEDULABLE:
        raise PatientStateError(f"the patient is {patient.status}, not active")


def in_quiet_hours(at: time, settings: Settings) -> bool:
    start, end = parse_hhmm(settings.quiet_hours_start), parse_hhmm(settings.quiet_hours_end)
    if start == end:
        return False
    if start > end:  # e.g. 21:00-08:00, across midnight
        return at >= start or at < end
    return start <= at < end


async def set_checkin_time(
    session: AsyncSession,
    patient: Patient,
    at: time,
    now: datetime,
    settings: Settings,
    by: str = "patient",
) -> ScheduleItem:
    """Move the daily check-in to `at` patient-local (creating it if there is none);
    PatientStateError for an opted-out or discharged patient."""
    ensure_schedulable(patient)
    local = f"{at.hour:02d}:{at.minute:02d}"
    existing = await store.find(session, patient.id, CHECKIN)
    data = dict(existing.payload) if existing is not None else {"flow": CHECKIN}
    patient.checkin_time = local
    item = await store.set_daily(session, patient, CHECKIN, local, data, now, settings)
    await measures.ensure(session, patient, now, settings)  # the measure cadence goes with it
    await repo.log(session, now, "checkin_time_set", patient.id, {"local_time": local, "by": by})
    return item


async def set_timezone(
    session: AsyncSession,
    patient: Patient,
    zone: str,
    now: datetime,
    settings: Settings,
    *,
    confirmed: bool | None = True,
    by: str = "patient",
) -> int:
    """Move the patient to IANA `zone` (ValueError if unknown) and re-arm their daily schedules
    so the next fire is at the same local time in the new zone. Returns the rows re-armed.

    `confirmed` is written to `timezone_confirmed` unless None (a guess keeps it as it is)."""
    zone = validate_timezone(zone)
    before = patient.timezone
    patient.timezone = zone
    if confirmed is not None:
        patient.timezone_confirmed = confirmed
    rows = await session.execute(
        select(ScheduleItem).where(
            ScheduleItem.patient_id == patient.id,
            ScheduleItem.status == ScheduleStatus.ACTIVE,
            ScheduleItem.recurrence == "daily",
        )
    )
    items = list(rows.scalars())
    for item in items:
        if item.local_time:
            after = max(now, patient.paused_until or now)
            item.next_fire_at = next_daily(after, item.local_time, zone, settings)
            item.updated_at = now
    data = {"from": before, "to": zone, "confirmed": patient.timezone_confirmed, "by": by}
    await repo.log(session, now, "timezone_set", patient.id, data)
    return len(items)


async def pause(
    session: AsyncSession, patient: Patient, days: int | None, now: datetime, by: str = "patient"
) -> None:
    """Pause everything scheduled for `days` days (None: until resumed); PatientStateError for
    an opted-out or discharged patient."""
    ensure_schedulable(patient)
    patient.status = PatientStatus.PAUSED
    patient.paused_until = now + timedelta(days=days) if days else None
    until = patient.paused_until.isoformat() if patient.paused_until else None
    await repo.log(session, now, "paused", patient.id, {"days": days, "until": until, "by": by})


async def resume(
    session: AsyncSession, patient: Patient, now: datetime, by: str = "patient"
) -> bool:
    """End a pause; False when the patient was active, PatientStateError when opted out or
    discharged (opt-outs are never lifted here)."""
    ensure_schedulable(patient)
    if patient.status != PatientStatus.PAUSED:
        return False
    patient.status, patient.paused_until = PatientStatus.ACTIVE, None
    await repo.log(session, now, "resumed", patient.id, {"by": by})
    return True
