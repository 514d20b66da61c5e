"""What the console reads: the queue, a caseload, one patient's record. Read-only queries over
the coaching, scheduling and core tables; changes go through bot/coaching and bot/scheduling."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching import accounts, escalations, takeover
from bot.console.svg import Point
from bot.facts import chosen_program
from flows.measures.outcomes import NON_RESPONSE_AFTER, OUTCOME_MEASURES, Administration, compute
from flows.measures.outcomes import Outcome as MeasureOutcome
from storage import repo
from storage.models import (
    ChannelIdentity,
    Coach,
    CoachNote,
    CoachSession,
    Escalation,
    Event,
    FlowRun,
    Message,
    MessageTemplate,
    Patient,
    PatientFact,
    SafetyPlan,
    ScheduleItem,
    Takeover,
)
from storage.statuses import EscalationStatus, PatientStatus, ScheduleStatus

TRANSCRIPT_LIMIT = 200
ENGAGEMENT_DAYS = 7
TRENDED = (("phq9", "PHQ-9"), ("gad7", "GAD-7"))
MEASURE_LABELS = {"phq2": "PHQ-2", "gad2": "GAD-2", "phq9": "PHQ-9", "gad7": "GAD-7"}


async def peek_session(
    session: AsyncSession, token: str, now: datetime
) -> tuple[Coach, CoachSession] | None:
    """The coach behind a cookie without sliding the idle expiry (background requests: the live
    feed and its refreshes must not keep an unattended console logged in)."""
    row = await session.get(CoachSession, hashlib.sha256(token.encode()).hexdigest())
    if row is None or row.expires_at <= now:
        return None
    coach = await session.get(Coach, row.coach_id)
    if coach is None or not coach.active:
        return None
    return coach, row


@dataclass
class QueueRow:
    escalation: Escalation
    patient_name: str
    coach_name: str | None
    timezone: str = "UTC"
    tag: str = ""  # tells patients with the same name apart (identity_tag)
    excerpt: Message | None = None  # the patient's words that raised it


async def queue(session: AsyncSession, coach: Coach) -> list[QueueRow]:
    """Unresolved escalations the coach may see, most pressing first (priority, then SLA due)."""
    rows = await session.execute(
        select(Escalation, Patient.display_name, Coach.name, Patient.timezone)
        .join(Patient, Patient.id == Escalation.patient_id)
        .outerjoin(Coach, Coach.id == Escalation.coach_id)
        .where(
            Escalation.status.in_(escalations.OPEN_STATUSES),
            escalations.visible_filter(coach),  # type: ignore[arg-type]
        )
        .order_by(Escalation.due_at, Escalation.id)
        .limit(500)
    )
    found = [
        QueueRow(esc, name or esc.patient_id[:8], coach, zone or "UTC")
        for esc, name, coach, zone in rows
    ]
    ids = list({r.escalation.patient_id for r in found})
    tags = await identity_tags(session, ids)
    excerpts = await _excerpts(session, [r.escalation for r in found])
    for row in found:
        row.tag = tags.get(row.escalation.patient_id, "")
        row.excerpt = excerpts.get(row.escalation.id)
    found.sort(
        key=lambda r: (
            r.escalation.status != EscalationStatus.OPEN,  # waiting for a human first
            escalations.PRIORITIES[r.escalation.priority],
            r.escalation.due_at,
        )
    )
    return found


# Escalations a patient's own message raises; the others (no reply for days, a failed send) have
# no words of the patient behind them.
NOT_FROM_A_MESSAGE = ("disengaged", "undeliverable")
EXCERPT_CHARS = 200


async def _excerpts(session: AsyncSession, found: list[Escalation]) -> dict[int, Message]:
    """Per escalation, the patient's last message at or before it was raised: the words that
    raised it (the pipeline raises it while handling that message)."""
    wanted = [e for e in found if e.reason not in NOT_FROM_A_MESSAGE]
    if not wanted:
        return {}
    latest = (
        select(func.max(Message.id))
        .where(
            Message.patient_id == Escalation.patient_id,
            Message.direction == "in",
            Message.created_at <= Escalation.created_at,
        )
        .correlate(Escalation)
        .scalar_subquery()
    )
    pairs = (
        await session.execute(
            select(Escalation.id, latest).where(Escalation.id.in_([e.id for e in wanted]))
        )
    ).all()
    ids = {mid for _, mid in pairs if mid is not None}
    if not ids:
        return {}
    messages = {
        m.id: m
        for m in (await session.execute(select(Message).where(Message.id.in_(ids)))).scalars()
    }
    return {eid: messages[mid] for eid, mid in pairs if mid in messages}


def identity_tag(channel: str, address: str) -> str:
    """A short, low-risk way to tell two patients with the same name apart: the last digits of a
    phone number ("…4321"), else the channel and the address's last characters."""
    tail = address[-4:]
    if channel == "sms":
        return f"…{tail}"
    label = {"telegram": "Telegram", "try": "try-it", "terminal": "terminal"}.get(channel, channel)
    return f"{label} …{tail}"


async def identity_tags(session: AsyncSession, ids: list[str]) -> dict[str, str]:
    """Each patient's tag from their first channel identity."""
    if not ids:
        return {}
    rows = await session.execute(
        select(ChannelIdentity.patient_id, ChannelIdentity.channel, ChannelIdentity.address)
        .where(ChannelIdentity.patient_id.in_(ids))
        .order_by(ChannelIdentity.id)
    )
    tags: dict[str, str] = {}
    for pid, channel, address in rows:
        tags.setdefault(pid, identity_tag(channel, address))
    return tags


@dataclass
class CaseRow:
    patient: Patient
    last_contact: datetime | None
    recent_messages: int
    scores: dict[str, Any]
    open_escalations: int
    item9_flag: bool
    coach_name: str | None
    tag: str = ""


async def caseload(
    session: AsyncSession, coach: Coach, now: datetime, everyone: bool = False, match: str = ""
) -> list[CaseRow]:
    """The coach's patients (every patient for supervisors asking for `everyone`); `match`
    keeps those whose name or tag contains it (case-insensitive)."""
    query = select(Patient).where(Patient.status != PatientStatus.ERASED)
    query = query.order_by(Patient.display_name, Patient.created_at)
    if not (everyone and accounts.sees_all(coach)):
        query = query.where(Patient.coach_id == coach.id)
    patients = list((await session.execute(query.limit(1000))).scalars())
    tags = await identity_tags(session, [p.id for p in patients])
    needle = match.strip().casefold()
    if needle:
        patients = [
            p
            for p in patients
            if needle in (p.display_name or "").casefold() or needle in tags.get(p.id, "")
        ]
    ids = [p.id for p in patients]
    if not ids:
        return []
    last = dict(
        (
            await session.execute(
                select(Message.patient_id, func.max(Message.created_at))
                .where(Message.patient_id.in_(ids), Message.direction == "in")
                .group_by(Message.patient_id)
            )
        ).all()
    )
    recent = dict(
        (
            await session.execute(
                select(Message.patient_id, func.count())
                .where(
                    Message.patient_id.in_(ids),
                    Message.direction == "in",
                    Message.created_at >= now - timedelta(days=ENGAGEMENT_DAYS),
                )
                .group_by(Message.patient_id)
            )
        ).all()
    )
    scores: dict[str, Any] = dict(
        (
            await session.execute(
                select(PatientFact.patient_id, PatientFact.value).where(
                    PatientFact.patient_id.in_(ids), PatientFact.name == "last_scores"
                )
            )
        ).all()
    )
    open_counts = dict(
        (
            await session.execute(
                select(Escalation.patient_id, func.count())
                .where(
                    Escalation.patient_id.in_(ids),
                    Escalation.status.in_(escalations.OPEN_STATUSES),
                )
                .group_by(Escalation.patient_id)
            )
        ).all()
    )
    flagged = await _item9_patients(session, ids, now - timedelta(days=30))
    names = await coach_names(session)
    return [
        CaseRow(
            patient=p,
            last_contact=last.get(p.id),
            recent_messages=int(recent.get(p.id, 0)),
            scores=dict(scores.get(p.id) or {}),
            open_escalations=int(open_counts.get(p.id, 0)),
            item9_flag=p.id in flagged,
            coach_name=names.get(p.coach_id or ""),
            tag=tags.get(p.id, ""),
        )
        for p in patients
    ]


async def _item9_patients(session: AsyncSession, ids: list[str], since: datetime) -> set[str]:
    rows = await session.execute(
        select(Event.patient_id, Event.data).where(
            Event.patient_id.in_(ids), Event.kind == "measure", Event.at >= since
        )
    )
    return {pid for pid, data in rows if _is_item9(data) and pid is not None}


def _is_item9(data: dict[str, Any]) -> bool:
    return data.get("measure") == "phq9" and data.get("item") == 9 and (data.get("value") or 0) > 0


async def coach_names(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(Coach.id, Coach.name))
    return {cid: name for cid, name in rows.all()}


async def active_coaches(session: AsyncSession) -> list[Coach]:
    rows = await session.execute(select(Coach).where(Coach.active.is_(True)).order_by(Coach.name))
    return list(rows.scalars())


@dataclass
class Line:
    message: Message
    sender: str  # patient, bot, coach
    coach_name: str | None = None


async def transcript(session: AsyncSession, patient_id: str) -> list[Line]:
    """The latest messages across every channel, oldest first."""
    rows = await session.execute(
        select(Message)
        .where(Message.patient_id == patient_id)
        .order_by(Message.id.desc())
        .limit(TRANSCRIPT_LIMIT)
    )
    names = await coach_names(session)
    lines = []
    for message in reversed(list(rows.scalars())):
        payload = message.payload or ""
        if message.direction == "in":
            lines.append(Line(message, "patient"))
        elif payload.startswith("coach:"):
            lines.append(Line(message, "coach", names.get(payload[6:], "coach")))
        else:
            lines.append(Line(message, "bot"))
    return lines


@dataclass
class Record:
    patient: Patient
    identities: list[ChannelIdentity]
    coach_name: str | None
    run: FlowRun | None
    trends: dict[str, list[Point]]
    item9: list[datetime]
    notes: list[tuple[CoachNote, str]]
    plan: dict[str, Any]
    schedules: list[ScheduleItem]
    open_escalations: list[Escalation]
    takeover: Takeover | None
    takeover_coach: str | None
    templates: list[MessageTemplate] = field(default_factory=list)
    safeguarding: bool = False  # any escalation of this patient, open or resolved, was marked
    program: str | None = None  # chosen in the program flow (a fact) or at enrolment (API)
    latest: list[Latest] = field(
        default_factory=list
    )  # each measure's latest result, screeners too
    tag: str = ""
    # Measurement-based care (`_outcomes.html`): response, remission, week-6 non-response.
    outcomes: dict[str, OutcomeRow] = field(default_factory=dict)


@dataclass
class Latest:
    measure: str
    label: str
    total: int
    band: str | None
    positive: bool | None
    at: datetime


async def record(session: AsyncSession, patient: Patient) -> Record:
    """Everything the patient page shows."""
    identities = list(
        (
            await session.execute(
                select(ChannelIdentity)
                .where(ChannelIdentity.patient_id == patient.id)
                .order_by(ChannelIdentity.id)
            )
        ).scalars()
    )
    names = await coach_names(session)
    trends, item9, latest = await _measures(session, patient.id)
    program = await chosen_program(session, patient)
    notes = (
        await session.execute(
            select(CoachNote)
            .where(CoachNote.patient_id == patient.id)
            .order_by(CoachNote.id.desc())
            .limit(50)
        )
    ).scalars()
    plan = await session.get(SafetyPlan, patient.id)
    schedules = (
        await session.execute(
            select(ScheduleItem)
            .where(
                ScheduleItem.patient_id == patient.id, ScheduleItem.status == ScheduleStatus.ACTIVE
            )
            .order_by(ScheduleItem.next_fire_at)
            .limit(10)
        )
    ).scalars()
    current = await takeover.open_takeover(session, patient.id)
    templates = (
        await session.execute(
            select(MessageTemplate)
            .where(MessageTemplate.locale == patient.locale)
            .order_by(MessageTemplate.title)
        )
    ).scalars()
    return Record(
        patient=patient,
        identities=identities,
        coach_name=names.get(patient.coach_id or ""),
        run=await repo.active_run(session, patient.id),
        trends=trends,
        item9=item9,
        notes=[(n, names.get(n.coach_id, "?")) for n in notes],
        plan=dict(plan.sections) if plan is not None else {},
        schedules=list(schedules),
        open_escalations=await escalations.unresolved_for(session, patient.id),
        takeover=current,
        takeover_coach=names.get(current.coach_id) if current else None,
        templates=list(templates),
        program=program,
        latest=sorted(
            latest.values(),
            key=lambda x: (
                list(MEASURE_LABELS).index(x.measure)
                if x.measure in MEASURE_LABELS
                else len(MEASURE_LABELS)
            ),
        ),
        tag=identity_tag(identities[0].channel, identities[0].address) if identities else "",
        outcomes=measure_outcomes(trends),
        safeguarding=bool(
            await session.scalar(
                select(func.count())
                .select_from(Escalation)
                .where(Escalation.patient_id == patient.id, Escalation.safeguarding.is_(True))
            )
        ),
    )


async def _measures(
    session: AsyncSession, patient_id: str
) -> tuple[dict[str, list[Point]], list[datetime], dict[str, Latest]]:
    """Totals per trended measure from `measure_total` events; a PHQ-9 completion is flagged
    when its item 9 (logged just before the total) was above 0. Also every measure's latest
    result, the PHQ-2 and GAD-2 screeners included."""
    rows = await session.execute(
        select(Event.at, Event.kind, Event.data)
        .where(Event.patient_id == patient_id, Event.kind.in_(("measure", "measure_total")))
        .order_by(Event.id)
    )
    trends: dict[str, list[Point]] = {mid: [] for mid, _ in TRENDED}
    item9: list[datetime] = []
    pending_flag = False
    latest: dict[str, Latest] = {}
    for at, kind, data in rows:
        if kind == "measure":
            if _is_item9(data):
                item9.append(at)
                pending_flag = True
            continue
        measure = data.get("measure")
        total = data.get("total")
        if measure in trends and isinstance(total, int):
            trends[measure].append(Point(at, total, pending_flag and measure == "phq9"))
        if isinstance(measure, str) and isinstance(total, int):
            label = MEASURE_LABELS.get(measure, measure.upper())
            positive = data.get("positive")
            band = data.get("band")
            latest[measure] = Latest(
                measure,
                label,
                total,
                band if isinstance(band, str) else None,
                positive if isinstance(positive, bool) else None,
                at,
            )
        if measure == "phq9":
            pending_flag = False
    return trends, item9, latest


@dataclass(frozen=True)
class OutcomeRow:
    label: str
    outcome: MeasureOutcome
    week6_due: datetime  # when the measure deciding non-response is due (baseline + 6 weeks)


def measure_outcomes(trends: dict[str, list[Point]]) -> dict[str, OutcomeRow]:
    """Outcomes of the current episode per measure (flows.measures.outcomes), from the same
    `measure_total` events as the trends; measures never completed are left out."""
    labels = dict(TRENDED)
    out: dict[str, OutcomeRow] = {}
    for measure in OUTCOME_MEASURES:
        points = trends.get(measure) or []
        outcome = compute(measure, [Administration(p.total, p.at) for p in points])
        if outcome is not None:
            due = outcome.baseline.at + NON_RESPONSE_AFTER
            out[measure] = OutcomeRow(labels.get(measure, measure), outcome, due)
    return out
