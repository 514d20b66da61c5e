"""participants.csv, decisions.csv and engagement.csv, one chunk of people at a time.

Every section reads only the chunk's rows (indexed by patient id) and writes plain values: the
pseudonym, codes, counts and times, never an address, a name or a message body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.research.people import Person, Window, each, iso, local_day
from storage.models import ChannelIdentity, Event, Message, Patient, StudyDecision
from storage.statuses import DecisionStatus, OutboundStatus

PARTICIPANTS = (
    "participant_id",
    "arm",
    "stratum",
    "enrolled_at",
    "program",
    "status",
    "withdrawn_at",
)
# Only with --identified (admins; audited): who the pseudonym is.
IDENTIFIED = ("patient_id", "display_name", "channel", "address")
DECISIONS = (
    "participant_id",
    "decision_point",
    "decision_index",
    "decision_time_utc",
    "decision_time_local",
    "timezone",
    "available",
    "unavailable_reason",
    "action",
    "probability",
    "policy_version",
    "seed",
    "proximal_outcome",
    "proximal_outcome_at",
)
ENGAGEMENT = (
    "participant_id",
    "day",
    "messages_in",
    "messages_out",
    "checkins_done",
    "exercises_done",
    "coach_messages",
)
# A completed run of a program exercise: BA and anxiety-skills flows that ask the patient to do
# something (a reminder only sends a text, so it is not an exercise the patient did).
EXERCISE_PREFIXES = ("anx_", "ba_")
NOT_EXERCISES = frozenset({"ba_reminder"})
DONE_OUTCOMES = frozenset({"completed", "planned"})
UNSENT = (OutboundStatus.FAILED, OutboundStatus.UNDELIVERED)


class Sink(Protocol):
    def row(self, name: str, values: list[Any]) -> None: ...


@dataclass(frozen=True)
class Context:
    window: Window
    now: datetime
    identified: bool


def number(value: float | None) -> str:
    """1.0 -> "1", 0.25 -> "0.25", None -> "" (numeric columns stay numeric in pandas)."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


async def participants(
    session: AsyncSession, people: list[Person], ctx: Context, sink: Sink
) -> None:
    extra: dict[str, list[str]] = {}
    if ctx.identified:
        extra = await _identities(session, [p.patient_id for p in people])
    for person in people:
        enrolment = person.enrolment
        values: list[Any] = [
            person.participant_id,
            enrolment.arm if enrolment else "",
            enrolment.stratum if enrolment else "",
            iso(person.start),
            person.program,
            person.status,
            iso(enrolment.withdrawn_at if enrolment else None),
        ]
        if ctx.identified:
            values += [person.patient_id, *extra.get(person.patient_id, ["", "", ""])]
        sink.row("participants.csv", values)


async def _identities(session: AsyncSession, ids: list[str]) -> dict[str, list[str]]:
    query = select(Patient.id, Patient.display_name).where(Patient.id.in_(ids))
    names = {pid: name for pid, name in (await session.execute(query)).all()}
    first: dict[str, tuple[str, str]] = {}
    rows = await session.execute(
        select(ChannelIdentity.patient_id, ChannelIdentity.channel, ChannelIdentity.address)
        .where(ChannelIdentity.patient_id.in_(ids))
        .order_by(ChannelIdentity.id)
    )
    for pid, channel, address in rows.all():
        first.setdefault(pid, (channel, address))
    return {pid: [names.get(pid) or "", *first.get(pid, ("", ""))] for pid in ids}


async def decisions(session: AsyncSession, people: list[Person], ctx: Context, sink: Sink) -> None:
    by_id = {p.patient_id: p for p in people}
    d = StudyDecision
    query = (
        select(
            d.patient_id,
            d.decision_point,
            d.decision_index,
            d.decided_utc,
            d.scheduled_utc,
            d.decided_local,
            d.scheduled_local,
            d.timezone,
            d.available,
            d.unavailable_reasons,
            d.action,
            d.probability,
            d.policy_version,
            d.seed,
            d.proximal_outcome,
            d.proximal_outcome_at,
        )
        .where(
            d.patient_id.in_(by_id),
            d.status == DecisionStatus.DECIDED,
            ctx.window.clause(d.scheduled_utc),
        )
        .order_by(d.patient_id, d.scheduled_utc, d.decision_point, d.decision_index)
    )
    async for row in each(session, query):
        available = "" if row.available is None else ("1" if row.available else "0")
        sink.row(
            "decisions.csv",
            [
                by_id[row.patient_id].participant_id,
                row.decision_point,
                row.decision_index,
                iso(row.decided_utc or row.scheduled_utc),
                row.decided_local or row.scheduled_local,
                row.timezone,
                available,
                ";".join(str(r) for r in row.unavailable_reasons or []),
                row.action or "",
                number(row.probability),
                row.policy_version or "",
                row.seed or "",
                number(row.proximal_outcome),
                iso(row.proximal_outcome_at),
            ],
        )


@dataclass
class Day:
    messages_in: int = 0
    messages_out: int = 0
    checkins: int = 0
    exercises: int = 0
    coach: int = 0


def is_exercise(flow_id: str | None, outcome: object) -> bool:
    if not flow_id or flow_id in NOT_EXERCISES or outcome not in DONE_OUTCOMES:
        return False
    return flow_id.startswith(EXERCISE_PREFIXES)


async def engagement(session: AsyncSession, people: list[Person], ctx: Context, sink: Sink) -> None:
    by_id = {p.patient_id: p for p in people}
    days: dict[tuple[str, date], Day] = {}

    def day(pid: str | None, at: datetime) -> Day:
        assert pid is not None
        key = (pid, local_day(at, by_id[pid].zone))
        return days.setdefault(key, Day())

    messages = select(
        Message.patient_id, Message.direction, Message.payload, Message.created_at
    ).where(
        Message.patient_id.in_(by_id),
        Message.status.not_in(UNSENT),
        ctx.window.clause(Message.created_at),
    )
    async for pid, direction, payload, at in each(session, messages):
        bucket = day(pid, at)
        if direction == "in":
            bucket.messages_in += 1
        else:
            bucket.messages_out += 1
            bucket.coach += (payload or "").startswith("coach:")
    ended = select(Event.patient_id, Event.flow_id, Event.data, Event.at).where(
        Event.patient_id.in_(by_id),
        Event.kind == "flow_ended",
        ctx.window.clause(Event.at),
    )
    async for pid, flow_id, data, at in each(session, ended):
        outcome = (data or {}).get("outcome")
        if flow_id == "checkin" and outcome == "completed":
            day(pid, at).checkins += 1
        elif is_exercise(flow_id, outcome):
            day(pid, at).exercises += 1
    for person in people:
        for current in _days(person, ctx):
            d = days.get((person.patient_id, current), Day())
            sink.row(
                "engagement.csv",
                [
                    person.participant_id,
                    current.isoformat(),
                    d.messages_in,
                    d.messages_out,
                    d.checkins,
                    d.exercises,
                    d.coach,
                ],
            )


def _days(person: Person, ctx: Context) -> list[date]:
    """Every local day from the participant's start to the end of the window (or now, or their
    withdrawal), zero days included: a complete panel needs no filling in."""
    start = max(person.start, ctx.window.since) if ctx.window.since else person.start
    end = min(ctx.now, ctx.window.until) if ctx.window.until else ctx.now
    if person.enrolment is not None and person.enrolment.withdrawn_at is not None:
        end = min(end, person.enrolment.withdrawn_at)
    if end <= start:
        return []
    first = local_day(start, person.zone)
    last = local_day(end - timedelta(microseconds=1), person.zone)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
