"""Disengagement: check-ins in a row with no reply get a short re-engagement text, and continued
silence a non-urgent coach escalation.

A check-in counts as unanswered when the patient sent nothing between it and the next one. The
escalation goes through the pipeline's `Escalate` handler: the escalations area registers the
one that opens a case; until then the default records an `escalation_requested` event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import Turn
from flows import model as m
from flows.texts import text
from storage.models import Message, ScheduleItem


async def replied_since(session: AsyncSession, patient_id: str, since: datetime) -> bool:
    rows = await session.execute(
        select(Message.id)
        .where(
            Message.patient_id == patient_id,
            Message.direction == "in",
            Message.created_at > since,
        )
        .limit(1)
    )
    return rows.first() is not None


async def before_checkin(turn: Turn, item: ScheduleItem, replied: bool | None = None) -> bool:
    """Count the previous check-in as answered or not; False when a re-engagement text went out
    in place of this check-in. `replied`: already known (the scheduler reads it for a whole
    batch at once), else read here."""
    settings = turn.pipeline.settings
    patient = turn.patient
    if replied is None:
        replied = item.last_fired_at is None or await replied_since(
            turn.session, patient.id, item.last_fired_at
        )
    item.missed = 0 if replied else item.missed + 1
    if item.missed == settings.escalate_after_missed:
        detail = f"no reply to {item.missed} check-ins in a row"
        await turn.pipeline.handlers.handle(turn, m.Escalate("disengaged", "normal", detail))
    if item.missed == settings.reengage_after_missed:
        await turn.send(text("scheduling.reengage", patient.locale, name=patient.display_name))
        await turn.log("reengagement_sent", {"missed": item.missed})
        return False
    return True
