"""Escalations: open (one per patient and reason while unresolved), acknowledge, resolve.

Every step is written to the event log and published on the live bus after the commit. Callers
pass their own session: the escalation commits with whatever caused it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching import notify
from bot.coaching.events import LiveEvent, publish_after_commit
from bot.coaching.texts import text
from bot.settings import DEFAULT_SLA_MINUTES
from storage import repo
from storage.models import Coach, Escalation, Patient

REASONS = ("risk", "human_request", "disengaged", "worsening", "undeliverable")
PRIORITIES = {"urgent": 0, "high": 1, "normal": 2}  # lower is more pressing
OPEN_STATUSES = ("open", "acknowledged")


class EscalationError(Exception):
    """The request does not fit the escalation's state (e.g. already resolved)."""


class Policy:
    """SLA minutes by reason; urgent escalations never get longer than the risk SLA."""

    def __init__(self, sla_minutes: Mapping[str, int] | None = None, program: str = "Tandem"):
        self.sla_minutes = {**DEFAULT_SLA_MINUTES, **(sla_minutes or {})}
        self.program = program
        self.locale = "en"

    def due(self, reason: str, priority: str, now: datetime) -> datetime:
        minutes = self.sla_minutes.get(reason, max(self.sla_minutes.values()))
        if priority == "urgent":
            minutes = min(minutes, self.sla_minutes["risk"])
        return now + timedelta(minutes=minutes)


_policy = Policy()


def configure(policy: Policy) -> None:
    global _policy
    _policy = policy


def _live(kind: str, esc: Escalation, now: datetime, **data: object) -> LiveEvent:
    return LiveEvent(kind, now, esc.patient_id, esc.id, esc.coach_id, dict(data))


async def open_escalation(
    session: AsyncSession,
    patient_id: str,
    reason: str,
    priority: str,
    detail: str,
    now: datetime,
) -> Escalation:
    """Open an escalation, or fold into the patient's unresolved one for the same reason.

    Folding raises the priority if the new one is more pressing (with the matching SLA) and counts
    the repeat, so a patient writing five times in crisis gives one queue entry, not five.
    """
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}")
    existing = (
        await session.execute(
            select(Escalation)
            .where(
                Escalation.patient_id == patient_id,
                Escalation.reason == reason,
                Escalation.status.in_(OPEN_STATUSES),
            )
            .order_by(Escalation.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if existing is not None:
        existing.repeats += 1
        raised = PRIORITIES[priority] < PRIORITIES[existing.priority]
        if raised:
            existing.priority = priority
            existing.due_at = min(existing.due_at, _policy.due(reason, priority, now))
            if existing.status == "acknowledged":
                existing.status = "open"  # more pressing now: needs a fresh acknowledgement
        await repo.log(
            session,
            now,
            "escalation_repeated",
            patient_id,
            {"escalation_id": existing.id, "priority": existing.priority, "raised": raised},
        )
        publish_after_commit(session, _live("escalation_updated", existing, now, repeat=True))
        if raised:
            await _alert_assignees(session, existing, now)
        return existing
    patient = await session.get(Patient, patient_id)
    if patient is None:
        raise KeyError(patient_id)
    esc = Escalation(
        patient_id=patient_id,
        reason=reason,
        priority=priority,
        detail=detail[:2000],
        status="open",
        coach_id=patient.coach_id,
        created_at=now,
        due_at=_policy.due(reason, priority, now),
        repeats=0,
    )
    session.add(esc)
    await session.flush()
    await repo.log(
        session,
        now,
        "escalation_opened",
        patient_id,
        {
            "escalation_id": esc.id,
            "reason": reason,
            "priority": priority,
            "coach_id": esc.coach_id,
            "due_at": esc.due_at.isoformat(),
        },
    )
    publish_after_commit(session, _live("escalation_opened", esc, now))
    await _alert_assignees(session, esc, now)
    return esc


async def assignees(session: AsyncSession, esc: Escalation) -> list[Coach]:
    """The assigned coach, or every active coach in the pool when nobody is assigned."""
    if esc.coach_id is not None:
        coach = await session.get(Coach, esc.coach_id)
        if coach is not None and coach.active:
            return [coach]
    rows = await session.execute(
        select(Coach).where(Coach.active.is_(True), Coach.available.is_(True)).order_by(Coach.id)
    )
    return list(rows.scalars())


async def _alert_assignees(session: AsyncSession, esc: Escalation, now: datetime) -> None:
    body = text(
        "coach_alert",
        _policy.locale,
        program=_policy.program,
        priority=esc.priority,
        reason=esc.reason,
        patient=esc.patient_id[:8],
    )
    for coach in await assignees(session, esc):
        await notify.alert(
            session,
            coach,
            body,
            patient_id=esc.patient_id,
            escalation_id=esc.id,
            why="escalation_opened",
            at=now,
        )


async def backups(session: AsyncSession, esc: Escalation) -> list[Coach]:
    """Who hears about an escalation nobody acknowledged in time: the assigned coach's backup,
    else every active supervisor and admin."""
    if esc.coach_id is not None:
        coach = await session.get(Coach, esc.coach_id)
        if coach is not None and coach.backup_id:
            backup = await session.get(Coach, coach.backup_id)
            if backup is not None and backup.active:
                return [backup]
    rows = await session.execute(
        select(Coach)
        .where(Coach.active.is_(True), Coach.role.in_(("supervisor", "admin")))
        .order_by(Coach.id)
    )
    return list(rows.scalars())


async def notify_backups(session: AsyncSession, esc: Escalation, now: datetime) -> None:
    esc.backup_notified_at = now
    body = text(
        "coach_backup_alert",
        _policy.locale,
        program=_policy.program,
        escalation=esc.id,
        priority=esc.priority,
        reason=esc.reason,
        patient=esc.patient_id[:8],
    )
    notified = []
    for coach in await backups(session, esc):
        notified.append(coach.id)
        await notify.alert(
            session,
            coach,
            body,
            patient_id=esc.patient_id,
            escalation_id=esc.id,
            why="sla_missed",
            at=now,
        )
    await repo.log(
        session,
        now,
        "escalation_sla_missed",
        esc.patient_id,
        {"escalation_id": esc.id, "notified": notified},
    )
    publish_after_commit(session, _live("escalation_updated", esc, now, sla_missed=True))


async def acknowledge(
    session: AsyncSession, esc: Escalation, coach: Coach, now: datetime
) -> Escalation:
    if esc.status == "resolved":
        raise EscalationError("escalation is already resolved")
    if esc.status == "open":
        esc.status = "acknowledged"
        esc.acknowledged_by, esc.acknowledged_at = coach.id, now
        if esc.coach_id is None:
            esc.coach_id = coach.id  # taking it from the pool
        await repo.log(
            session,
            now,
            "escalation_acknowledged",
            esc.patient_id,
            {"escalation_id": esc.id, "coach_id": coach.id, "late": now > esc.due_at},
        )
        publish_after_commit(session, _live("escalation_updated", esc, now, status=esc.status))
    return esc


async def resolve(
    session: AsyncSession, esc: Escalation, coach: Coach, outcome: str, now: datetime
) -> Escalation:
    if esc.status == "resolved":
        raise EscalationError("escalation is already resolved")
    if esc.status == "open":
        await acknowledge(session, esc, coach, now)
    esc.status = "resolved"
    esc.resolved_by, esc.resolved_at, esc.outcome = coach.id, now, outcome[:4000]
    await repo.log(
        session,
        now,
        "escalation_resolved",
        esc.patient_id,
        {"escalation_id": esc.id, "coach_id": coach.id},
    )
    publish_after_commit(session, _live("escalation_updated", esc, now, status=esc.status))
    return esc


async def unresolved_for(session: AsyncSession, patient_id: str) -> list[Escalation]:
    rows = await session.execute(
        select(Escalation)
        .where(Escalation.patient_id == patient_id, Escalation.status.in_(OPEN_STATUSES))
        .order_by(Escalation.id)
    )
    return list(rows.scalars())


async def overdue(session: AsyncSession, now: datetime, limit: int = 100) -> list[Escalation]:
    """Open escalations past their SLA whose backups were not told yet."""
    rows = await session.execute(
        select(Escalation)
        .where(
            Escalation.status == "open",
            Escalation.due_at <= now,
            Escalation.backup_notified_at.is_(None),
        )
        .order_by(Escalation.due_at)
        .limit(limit)
    )
    return list(rows.scalars())


def visible_filter(coach: Coach) -> object:
    """Escalations a coach may see: their own and the pool's (everything for supervisors)."""
    if coach.role in ("supervisor", "admin"):
        return True
    return or_(Escalation.coach_id == coach.id, Escalation.coach_id.is_(None))
