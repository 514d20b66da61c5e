"""Escalations: open (one per patient and reason while unresolved), acknowledge, resolve.

Every step is written to the event log and published on the live bus after the commit. Callers
pass their own session: the escalation commits with whatever caused it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Literal, cast

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching import notify
from bot.coaching.events import LiveEvent, publish_after_commit
from bot.settings import DEFAULT_SLA_MINUTES
from flows.texts import text
from storage import repo
from storage.db import Carried, Database
from storage.models import Coach, Escalation, Patient
from storage.statuses import EscalationStatus

REASONS = ("risk", "human_request", "disengaged", "worsening", "undeliverable")
PRIORITIES = {"urgent": 0, "high": 1, "normal": 2}  # lower is more pressing
OPEN_STATUSES = (EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED)
DETAIL_MAX = 4000

# Who has been told about an escalation: "coach" (at least one active, available account: the
# console's queue and live feed count, a phone text too), "oncall" (only the on-call phone was
# texted), "nobody".
Alerted = Literal["coach", "oncall", "nobody"]
_TOLD_RANK = {"nobody": 0, "oncall": 1, "coach": 2}


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


_DEFAULT_POLICY = Policy()
_POLICY = Carried[Policy]("tandem_escalation_policy")


def configure(db: Database, policy: Policy) -> None:
    """Every session of `db` uses `policy` (without one: the default SLAs)."""
    _POLICY.set(db, policy)


def policy_of(session: AsyncSession) -> Policy:
    return _POLICY.get(session) or _DEFAULT_POLICY


def _live(kind: str, esc: Escalation, now: datetime, **data: object) -> LiveEvent:
    return LiveEvent(kind, now, esc.patient_id, esc.id, esc.coach_id, dict(data))


async def open_escalation(
    session: AsyncSession,
    patient_id: str,
    reason: str,
    priority: str,
    detail: str,
    now: datetime,
    *,
    safeguarding: bool = False,
) -> Escalation:
    """Open an escalation, or fold into the patient's unresolved one for the same reason.

    Folding raises the priority if the new one is more pressing (with the matching SLA), adds new
    `detail` (the detector's evidence) and the safeguarding mark, and counts the repeat, so a
    patient writing five times in crisis gives one queue entry, not five. Who was alerted:
    `alerted(session, esc)`.
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
            existing.due_at = min(existing.due_at, policy_of(session).due(reason, priority, now))
            if existing.status == EscalationStatus.ACKNOWLEDGED:
                # More pressing now: it needs a fresh acknowledgement.
                existing.status = EscalationStatus.OPEN
        marked = safeguarding and not existing.safeguarding
        existing.safeguarding = existing.safeguarding or safeguarding
        existing.detail = _merge_detail(existing.detail, detail)
        await repo.log(
            session,
            now,
            "escalation_repeated",
            patient_id,
            {
                "escalation_id": existing.id,
                "priority": existing.priority,
                "raised": raised,
                "safeguarding": existing.safeguarding,
            },
        )
        if raised or marked:
            await _alert_first(session, existing, now)
        publish_after_commit(session, _live("escalation_updated", existing, now, repeat=True))
        return existing
    patient = await session.get(Patient, patient_id)
    if patient is None:
        raise KeyError(patient_id)
    esc = Escalation(
        patient_id=patient_id,
        reason=reason,
        priority=priority,
        detail=detail[:DETAIL_MAX],
        status=EscalationStatus.OPEN,
        coach_id=patient.coach_id,
        created_at=now,
        due_at=policy_of(session).due(reason, priority, now),
        repeats=0,
        safeguarding=safeguarding,
        alerted="nobody",
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
            "safeguarding": safeguarding,
        },
    )
    await _alert_first(session, esc, now)  # first: it may move the escalation to the pool
    publish_after_commit(session, _live("escalation_opened", esc, now))
    return esc


def _merge_detail(old: str, new: str) -> str:
    """Keep every distinct piece of evidence a repeat brings, within the column's budget."""
    new = new.strip()
    if not new or new in old:
        return old
    return f"{old}; {new}"[:DETAIL_MAX] if old else new[:DETAIL_MAX]


async def route(session: AsyncSession, esc: Escalation, now: datetime) -> list[Coach]:
    """Who an escalation alerts: the assigned coach when active and available; otherwise it
    moves to the pool (where everyone can see and take it) and alerts every active, available
    account."""
    if esc.coach_id is not None:
        coach = await session.get(Coach, esc.coach_id)
        if coach is not None and coach.active and coach.available:
            return [coach]
        await repo.log(
            session,
            now,
            "escalation_to_pool",
            esc.patient_id,
            {"escalation_id": esc.id, "coach_id": esc.coach_id},
        )
        esc.coach_id = None
    rows = await session.execute(
        select(Coach).where(Coach.active.is_(True), Coach.available.is_(True)).order_by(Coach.id)
    )
    return list(rows.scalars())


def _reason_label(esc: Escalation) -> str:
    return f"{esc.reason}, safeguarding" if esc.safeguarding else esc.reason


def _told(esc: Escalation, who: Alerted) -> None:
    if _TOLD_RANK[who] > _TOLD_RANK.get(esc.alerted, 0):
        esc.alerted = who


async def _alert_first(session: AsyncSession, esc: Escalation, now: datetime) -> None:
    """Alert whoever `route` picks; an urgent one that reaches no available coach goes on call."""
    coaches = await route(session, esc, now)
    body = text(
        "coaching.coach_alert",
        policy_of(session).locale,
        program=policy_of(session).program,
        priority=esc.priority,
        reason=_reason_label(esc),
        patient=esc.patient_id[:8],
        link=notify.console_link(session, esc.patient_id),
    )
    for coach in coaches:
        await notify.alert(
            session,
            coach,
            body,
            patient_id=esc.patient_id,
            escalation_id=esc.id,
            why="escalation_opened",
            at=now,
        )
        _told(esc, "coach")
    if not coaches and esc.priority == "urgent":
        await _oncall(session, esc, "no_coach_available", now)


async def _oncall(session: AsyncSession, esc: Escalation, why: str, now: datetime) -> None:
    # A lock screen shows this: program, priority, reason and a link; never the patient's words.
    body = text(
        "coaching.oncall_alert",
        policy_of(session).locale,
        program=policy_of(session).program,
        priority=esc.priority,
        reason=_reason_label(esc),
        link=notify.console_link(session, esc.patient_id),
    )
    if await notify.alert_oncall(
        session, body, patient_id=esc.patient_id, escalation_id=esc.id, why=why, at=now
    ):
        _told(esc, "oncall")


async def alerted(session: AsyncSession, esc: Escalation) -> Alerted:
    """Who has been told about `esc` so far: "coach" (an active, available coach account, on the
    console and on their phone if set up), "oncall" (only the on-call phone was texted) or
    "nobody". Call it after `open_escalation` to tell the patient the truth."""
    await session.flush()
    return who_was_told(esc)


def who_was_told(esc: Escalation) -> Alerted:
    """The same answer as `alerted`, without a database round trip (for wording a message)."""
    return cast(Alerted, esc.alerted if esc.alerted in _TOLD_RANK else "nobody")


def told_text(who: Alerted, locale: str) -> str:
    """A short, truthful sentence for the patient saying who has been told (texts
    `alerted_coach`, `alerted_oncall`, `alerted_nobody` in flows/content/<locale>/coaching.yaml)."""
    return text(f"coaching.alerted_{who}", locale)


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
    """An escalation nobody acknowledged in time: tell the backups (`backups`); an urgent one
    with no backup at all goes to the on-call phone."""
    esc.backup_notified_at = now
    body = text(
        "coaching.coach_backup_alert",
        policy_of(session).locale,
        program=policy_of(session).program,
        escalation=esc.id,
        priority=esc.priority,
        reason=_reason_label(esc),
        patient=esc.patient_id[:8],
        link=notify.console_link(session, esc.patient_id),
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
        if coach.available:
            _told(esc, "coach")
    if not notified and esc.priority == "urgent":
        await _oncall(session, esc, "sla_missed", now)
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
    if esc.status == EscalationStatus.RESOLVED:
        raise EscalationError("escalation is already resolved")
    if esc.status == EscalationStatus.OPEN:
        esc.status = EscalationStatus.ACKNOWLEDGED
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
    if esc.status == EscalationStatus.RESOLVED:
        raise EscalationError("escalation is already resolved")
    if esc.status == EscalationStatus.OPEN:
        await acknowledge(session, esc, coach, now)
    esc.status = EscalationStatus.RESOLVED
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
            Escalation.status == EscalationStatus.OPEN,
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
