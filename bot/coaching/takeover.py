"""Takeover and hand-back: a coach takes a conversation over from the bot, writes to the patient
on their own channel through the outbox, and hands it back (resume the flow, or the menu).

While a takeover is open the patient's bot is paused (`patients.bot_paused`): no flow replies, no
scheduled content; safety detection still runs first on every message and still alerts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import Turn
from bot.coaching import escalations, notify
from bot.coaching.events import LiveEvent, publish_after_commit
from flows import model as m
from flows.texts import text
from storage import repo
from storage.models import Coach, Message, Patient, Takeover

MENU_FLOW = "menu"


class TakeoverError(Exception):
    """The request conflicts with the conversation's state (HTTP 409)."""


async def open_takeover(session: AsyncSession, patient_id: str) -> Takeover | None:
    rows = await session.execute(
        select(Takeover)
        .where(Takeover.patient_id == patient_id, Takeover.ended_at.is_(None))
        .order_by(Takeover.id.desc())
        .limit(1)
    )
    return rows.scalar_one_or_none()


async def start(session: AsyncSession, patient: Patient, coach: Coach, now: datetime) -> Takeover:
    """Take the conversation over (idempotent for the same coach); acknowledges open escalations."""
    current = await open_takeover(session, patient.id)
    if current is not None:
        if current.coach_id != coach.id:
            raise TakeoverError("another coach has already taken this conversation over")
        return current
    pending = await escalations.unresolved_for(session, patient.id)
    for esc in pending:
        await escalations.acknowledge(session, esc, coach, now)
    takeover = Takeover(
        patient_id=patient.id,
        coach_id=coach.id,
        escalation_id=pending[0].id if pending else None,
        started_at=now,
    )
    session.add(takeover)
    patient.bot_paused = True
    await session.flush()
    await repo.log(
        session, now, "takeover_started", patient.id, {"coach_id": coach.id, "id": takeover.id}
    )
    publish_after_commit(
        session, LiveEvent("takeover_started", now, patient.id, takeover.escalation_id, coach.id)
    )
    return takeover


async def send(
    session: AsyncSession, patient: Patient, coach: Coach, body: str, now: datetime
) -> Message:
    """Queue a coach's message on the patient's own channel; needs the coach's open takeover."""
    current = await open_takeover(session, patient.id)
    if current is None or current.coach_id != coach.id:
        raise TakeoverError("take the conversation over before writing to the patient")
    identity = await repo.primary_identity(session, patient.id)
    if identity is None:
        raise TakeoverError("the patient has no channel to write to")
    item = await repo.enqueue(session, patient.id, identity.channel, identity.address, body, now)
    message = await session.get(Message, item.message_id)
    assert message is not None
    message.payload = f"coach:{coach.id}"  # outbound rows carry who wrote them
    await repo.log(
        session, now, "coach_message", patient.id, {"coach_id": coach.id, "message_id": message.id}
    )
    publish_after_commit(
        session, LiveEvent("coach_message", now, patient.id, None, coach.id, {"id": message.id})
    )
    return message


async def release(
    turn: Turn, coach: Coach, *, resume: str = "flow", outcome: str = ""
) -> Takeover | None:
    """Hand the conversation back: resolve open escalations with `outcome`, unpause the bot and
    resume the flow where it was (`resume="flow"`) or start the menu (`"menu"`, if one exists)."""
    session, patient, now = turn.session, turn.patient, turn.now
    current = await open_takeover(session, patient.id)
    if current is not None and current.coach_id != coach.id and coach.role == "coach":
        raise TakeoverError("another coach has this conversation")
    for esc in await escalations.unresolved_for(session, patient.id):
        await escalations.resolve(session, esc, coach, outcome or "handed back", now)
    if current is not None:
        current.ended_at, current.ended_by = now, coach.id
        current.resume, current.outcome = resume, outcome[:4000] or None
    patient.bot_paused = False
    await repo.log(
        session,
        now,
        "takeover_ended",
        patient.id,
        {"coach_id": coach.id, "resume": resume, "id": current.id if current else None},
    )
    publish_after_commit(session, LiveEvent("takeover_ended", now, patient.id, None, coach.id))
    if resume == "menu" and MENU_FLOW in turn.pipeline.library.current:
        await turn.pipeline.advance(turn, m.Start(MENU_FLOW))
    return current


async def remind_overdue(
    session: AsyncSession, now: datetime, after: timedelta, locale: str, program: str
) -> int:
    """Remind coaches of takeovers left open longer than `after` (once per takeover)."""
    rows = await session.execute(
        select(Takeover).where(
            Takeover.ended_at.is_(None),
            Takeover.reminded_at.is_(None),
            Takeover.started_at <= now - after,
        )
    )
    count = 0
    for takeover in rows.scalars():
        coach = await session.get(Coach, takeover.coach_id)
        takeover.reminded_at = now
        count += 1
        if coach is None:
            continue
        minutes = int((now - takeover.started_at).total_seconds() // 60)
        body = text(
            "coaching.coach_takeover_reminder",
            locale,
            program=program,
            patient=takeover.patient_id[:8],
            minutes=minutes,
        )
        await notify.alert(
            session,
            coach,
            body,
            patient_id=takeover.patient_id,
            escalation_id=takeover.escalation_id,
            why="takeover_open",
            at=now,
        )
    return count
