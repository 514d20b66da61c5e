"""When a participant's decisions fall: every local time of a decision point on each of its `days`
local calendar days after the enrolment day, in the patient's zone (DST-safe, see timecalc).

Decision `index` is `day * len(local_times) + k` (day 0 is the first day after enrolment, k the
k-th local time in clock order). All rows are written at enrolment, so an analyst sees one row per
planned decision even if the service was down; a zone change re-times the pending ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.scheduling.store import parse_hhmm, zone_of
from bot.scheduling.timecalc import resolve_local
from bot.study.config import DecisionPoint, Study
from storage.models import Patient, StudyDecision, StudyEnrolment
from storage.statuses import DecisionStatus

LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"


def local_text(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime(LOCAL_FORMAT)


def when(point: DecisionPoint, day: date, index: int, zone: str) -> tuple[datetime, str]:
    """(UTC instant, local wall text) of occurrence `index` whose local day is `day`."""
    at = parse_hhmm(point.local_times[index % len(point.local_times)])
    fire = resolve_local(day, at, zone)
    return fire, local_text(fire, zone)


def occurrences(
    point: DecisionPoint, enrolled_at: datetime, zone: str
) -> Iterator[tuple[int, datetime, str]]:
    """(index, scheduled UTC, scheduled local) of every decision of `point`."""
    first = enrolled_at.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    per_day = len(point.local_times)
    for index in range(point.days * per_day):
        day = first + timedelta(days=index // per_day)
        fire, local = when(point, day, index, zone)
        yield index, fire, local


async def plan(
    session: AsyncSession, study: Study, enrolment: StudyEnrolment, patient: Patient
) -> int:
    """Write the pending decision rows of a new enrolment; returns how many."""
    zone = zone_of(patient)
    now = enrolment.enrolled_at
    count = 0
    for point in study.decision_points:
        for index, fire, local in occurrences(point, now, zone):
            session.add(
                StudyDecision(
                    study_id=study.id,
                    patient_id=patient.id,
                    participant_id=enrolment.participant_id,
                    decision_point=point.id,
                    decision_index=index,
                    status=DecisionStatus.PENDING,
                    timezone=zone,
                    scheduled_utc=fire,
                    scheduled_local=local,
                    unavailable_reasons=[],
                    probabilities={},
                    created_at=now,
                    updated_at=now,
                )
            )
            count += 1
    return count


async def retime(
    session: AsyncSession, study: Study, patient_id: str, zone: str, now: datetime
) -> None:
    """The patient moved zone: their pending decisions keep their local date and time in it."""
    rows = await session.execute(
        select(StudyDecision).where(
            StudyDecision.patient_id == patient_id,
            StudyDecision.study_id == study.id,
            StudyDecision.status == DecisionStatus.PENDING,
        )
    )
    for row in rows.scalars():
        point = study.point(row.decision_point)
        day = date.fromisoformat(row.scheduled_local[:10])
        row.scheduled_utc, row.scheduled_local = when(point, day, row.decision_index, zone)
        row.timezone, row.updated_at = zone, now


def aware(value: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes from some expressions."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
