"""The measure cadence: a PHQ-9 and GAD-7 every `TANDEM_MEASURE_EVERY_DAYS` days for every
program, at the patient's check-in time in their own zone (schedule kind `measures`).

One row per patient (key `measures`, recurrence `every`), created with the daily check-in (for
patients onboarded earlier: at their next check-in) and re-armed after each fire to the same
local time that many days later. A fire asks only what is due: a measure completed within the
last half of the cadence (7 days of 14; e.g. by the BA weekly review) is not asked again, and a
`measure_skipped` event records why. Both due: `measure_checkup`; one: `measure_phq9` or
`measure_gad7`. Quiet hours, pauses, opt-outs, a coach's takeover and a live conversation are
the scheduler's usual rules (deferred or skipped, logged).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import mbc
from bot.actions import Turn
from bot.scheduling.store import allowed_at, find, parse_hhmm, zone_of
from bot.scheduling.timecalc import resolve_local
from bot.settings import Settings
from flows import model as m
from flows.measures.outcomes import OUTCOME_MEASURES, history_from
from storage.models import Patient, ScheduleItem
from storage.statuses import ScheduleStatus

KIND = "measures"
RECURRENCE = "every"
FLOWS = {("phq9", "gad7"): "measure_checkup", ("phq9",): "measure_phq9", ("gad7",): "measure_gad7"}
DEFAULT_TIME = "19:00"  # a patient with no check-in time yet (the onboarding default too)


def local_time_of(patient: Patient) -> str:
    return patient.checkin_time or DEFAULT_TIME


def next_fire(after: datetime, patient: Patient, settings: Settings) -> datetime:
    """`measure_every_days` local days after `after`, at the patient's check-in time."""
    tz = zone_of(patient)
    day = after.astimezone(ZoneInfo(tz)).date() + timedelta(days=settings.measure_every_days)
    return allowed_at(resolve_local(day, parse_hhmm(local_time_of(patient)), tz), tz, settings)


def recent_window(settings: Settings) -> timedelta:
    """A measure completed this recently is not asked again: half the cadence, at least a day."""
    return timedelta(days=max(1, math.ceil(settings.measure_every_days / 2)))


async def ensure(
    session: AsyncSession,
    patient: Patient,
    now: datetime,
    settings: Settings,
    *,
    known_missing: bool = False,
) -> ScheduleItem | None:
    """Create the patient's cadence row if it is missing (None when the cadence is off).

    `known_missing`: the caller already looked (a check-in batch reads every patient's row in
    one query); the row is then added without a look-up or a flush of its own, and goes out
    with the batch's other rows at commit."""
    if settings.measure_every_days == 0:
        return None
    if not known_missing:
        item = await find(session, patient.id, KIND)
        if item is not None:
            return item
    item = ScheduleItem(
        patient_id=patient.id,
        key=KIND,
        kind=KIND,
        recurrence=RECURRENCE,
        local_time=local_time_of(patient),
        payload={"flow": FLOWS[OUTCOME_MEASURES]},  # the scheduler's busy/consent rules apply
        status=ScheduleStatus.ACTIVE,
        next_fire_at=next_fire(now, patient, settings),
        attempts=0,
        missed=0,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    if not known_missing:
        await session.flush()
    return item


def rearm(item: ScheduleItem, patient: Patient, now: datetime, settings: Settings) -> None:
    if settings.measure_every_days == 0:
        item.status, item.next_fire_at = ScheduleStatus.CANCELLED, None
        return
    after = max(now, patient.paused_until or now)
    item.local_time = local_time_of(patient)
    item.next_fire_at = next_fire(after, patient, settings)


async def fire(turn: Turn, item: ScheduleItem) -> None:
    """Start the measures that are due; log the ones skipped as completed recently."""
    settings = turn.pipeline.settings
    if settings.measure_every_days == 0:
        await turn.log("measure_skipped", {"measures": list(OUTCOME_MEASURES), "reason": "off"})
        return
    history = await mbc.history_of(turn)
    due: list[str] = []
    for measure in OUTCOME_MEASURES:
        done = history_from(history, measure)
        last = max((a.at for a in done), default=None)
        if last is not None and turn.now - last < recent_window(settings):
            data = {"measure": measure, "reason": "completed_recently", "at": last.isoformat()}
            await turn.log("measure_skipped", data)
        else:
            due.append(measure)
    if due:
        flow = FLOWS[tuple(due)]
        await turn.pipeline.advance(turn, m.Start(flow))
        await turn.log("measures_started", {"flow": flow, "measures": due})
