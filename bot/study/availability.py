"""Whether a participant may be prompted at a decision, and every typed reason they may not.

All reasons that hold are recorded (not just the first), so an analyst can tell a crisis during a
pause from a pause alone. The file's required exclusions are always applied; `busy`, `no_consent`,
`missed`, `recent_prompt` and `withdrawn` apply whatever the file lists, because Tandem would not
message the patient then anyway. What a batch of decisions needs to know is read with one query
per fact for the whole batch (`Batch.load`), as the scheduler does.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from storage.statuses import RunStatus

# Events that mean the bot prompted the patient unasked: a study prompt or a scheduled fire.
PROMPT_EVENTS = ("study_prompt_sent", "schedule_fired")


@dataclass
class Batch:
    """Per-patient facts for a batch of decisions."""

    enrolments: dict[str, StudyEnrolment]
    crisis: set[str]  # an open risk escalation
    held: set[str]  # a coach's takeover in progress
    busy: set[str]  # mid-conversation in a flow
    last_prompt: dict[str, datetime]  # within the longest min_hours_since_prompt

    @classmethod
    async def load(
        cls, session: AsyncSession, ids: list[str], now: datetime, hours: float
    ) -> Batch:
        enrolments = await session.execute(
            select(StudyEnrolment).where(StudyEnrolment.patient_id.in_(ids))
        )
        crisis = await session.execute(
            select(Escalation.patient_id).where(
                Escalation.patient_id.in_(ids),
                Escalation.reason == "risk",
                Escalation.status.in_(OPEN_STATUSES),
            )
        )
        held = await session.execute(
            select(Takeover.patient_id).where(
                Takeover.patient_id.in_(ids), Takeover.ended_at.is_(None)
            )
        )
        busy = await session.execute(
            select(FlowRun.patient_id).where(
                FlowRun.patient_id.in_(ids),
                FlowRun.status == RunStatus.WAITING,
                FlowRun.updated_at > now - BUSY_DEFER,
            )
        )
        last: dict[str, datetime] = {}
        if hours:
            prompts = await session.execute(
                select(Event.patient_id, Event.at).where(
                    Event.patient_id.in_(ids),
                    Event.kind.in_(PROMPT_EVENTS),
                    Event.at > now - timedelta(hours=hours),
                )
            )
            for pid, at in prompts.all():
                if pid is not None and (pid not in last or at > last[pid]):
                    last[pid] = at
        return cls(
            {e.patient_id: e for e in enrolments.scalars()},
            set(crisis.scalars()),
            set(held.scalars()),
            set(busy.scalars()),
            last,
        )


def reasons(
    point: DecisionPoint,
    row: StudyDecision,
    patient: Patient,
    batch: Batch,
    now: datetime,
    settings: Settings,
) -> list[Reason]:
    """The reasons, in a fixed order, the participant is unavailable now ([]: available)."""
    found: list[Reason] = []
    pid = patient.id
    enrolment = batch.enrolments.get(pid)
    if enrolment is None or enrolment.withdrawn_at is not None:
        found.append(Reason.WITHDRAWN)
    if now - row.scheduled_utc > timedelta(hours=settings.schedule_grace_hours):
        found.append(Reason.MISSED)
    crisis = bool((patient.safety_state or {}).get("check")) or pid in batch.crisis
    if crisis:
        found.append(Reason.CRISIS)
    state = inactive_reason(patient, now)
    if pid in batch.held or (state == "bot_paused" and not crisis):
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
    if pid in batch.busy:
        found.append(Reason.BUSY)
    hours = point.availability.min_hours_since_prompt
    last = batch.last_prompt.get(pid)
    if hours and last is not None and last > now - timedelta(hours=hours):
        found.append(Reason.RECENT_PROMPT)
    return found
