"""Whether a participant may be prompted at a decision, and every typed reason they may not.

All reasons that hold are recorded (not just the first), so an analyst can tell a crisis during a
pause from a pause alone. The file's required exclusions are always applied; `busy`, `no_consent`,
`missed`, `recent_prompt` and `withdrawn` apply whatever the file lists, because Tandem would not
message the patient then anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching.escalations import OPEN_STATUSES
from bot.scheduling.control import in_quiet_hours
from bot.scheduling.runner import BUSY_DEFER, inactive_reason
from bot.settings import Settings
from bot.study.config import DecisionPoint, Reason
from storage.models import (
    Escalation,
    Event,
    FlowRun,
    Patient,
    StudyDecision,
    StudyEnrolment,
    Takeover,
)

# Events that mean the bot prompted the patient unasked: a study prompt or a scheduled fire.
PROMPT_EVENTS = ("study_prompt_sent", "schedule_fired")


async def _exists(session: AsyncSession, query: object) -> bool:
    return (await session.execute(query.limit(1))).first() is not None  # type: ignore[attr-defined]


async def reasons(
    session: AsyncSession,
    point: DecisionPoint,
    row: StudyDecision,
    patient: Patient,
    enrolment: StudyEnrolment | None,
    now: datetime,
    settings: Settings,
) -> list[Reason]:
    """The reasons, in a fixed order, the participant is unavailable now ([]: available)."""
    found: list[Reason] = []
    if enrolment is None or enrolment.withdrawn_at is not None:
        found.append(Reason.WITHDRAWN)
    if now - row.scheduled_utc > timedelta(hours=settings.schedule_grace_hours):
        found.append(Reason.MISSED)
    pid = patient.id
    crisis = bool((patient.safety_state or {}).get("check")) or await _exists(
        session,
        select(Escalation.id).where(
            Escalation.patient_id == pid,
            Escalation.reason == "risk",
            Escalation.status.in_(OPEN_STATUSES),
        ),
    )
    if crisis:
        found.append(Reason.CRISIS)
    held = await _exists(
        session, select(Takeover.id).where(Takeover.patient_id == pid, Takeover.ended_at.is_(None))
    )
    state = inactive_reason(patient, now)
    if held or (state == "bot_paused" and not crisis):
        found.append(Reason.TAKEOVER)
    if state == "paused":
        found.append(Reason.PAUSED)
    if state in ("opted_out", "discharged"):
        found.append(Reason.OPTED_OUT)
    if patient.consent_given is not True:
        found.append(Reason.NO_CONSENT)
    local = now.astimezone(ZoneInfo(row.timezone)).time().replace(second=0, microsecond=0)
    if settings.quiet_hours_start != settings.quiet_hours_end and in_quiet_hours(local, settings):
        found.append(Reason.QUIET_HOURS)
    busy = await _exists(
        session,
        select(FlowRun.id).where(
            FlowRun.patient_id == pid,
            FlowRun.status == "waiting",
            FlowRun.updated_at > now - BUSY_DEFER,
        ),
    )
    if busy:
        found.append(Reason.BUSY)
    hours = point.availability.min_hours_since_prompt
    if hours and await _exists(
        session,
        select(Event.id).where(
            Event.patient_id == pid,
            Event.kind.in_(PROMPT_EVENTS),
            Event.at > now - timedelta(hours=hours),
        ),
    ):
        found.append(Reason.RECENT_PROMPT)
    return found
