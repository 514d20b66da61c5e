"""Simulated weeks through the real pipeline and database: jump a FakeClock from one due
schedule or timeout to the next and run the scheduler there, recording what the patient saw.

Transcript files (tests/bot/scheduling/transcripts/*.txt):

    # New York, 09:00 check-in across the spring-forward weekend
    zone: America/New_York
    start: 2026-03-05T13:00Z
    settings: {quiet_hours_start: "21:00"}     (optional)
    ---
    patient: hi
    until: 2026-03-09T12:00Z    run the scheduler up to this instant (or `wait: 2d`)
    down: 3h                    the service is down: the clock moves, nothing runs
    set: status=opted_out       change a patient column directly (another area's doing)
    [Thu 03-05 09:00 EST] bot: How is your mood...
    [Sun 03-08 21:00 EDT] * schedule_deferred quiet_hours

Lines starting with `[` are the recorded output (local time of the patient), rewritten by
`pytest --regen-transcripts`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select, update

from bot.clock import FakeClock
from bot.service import Tandem
from storage.models import Event, FlowRun, Message, Patient, ScheduleItem
from tests.helpers import say

SHOWN_EVENTS = {
    "schedule_deferred": ("reason",),
    "schedule_skipped": ("reason",),
    "schedule_missed": ("late_s",),
    "timeout_deferred": (),
    "wait_closed": ("reason",),
    "reengagement_sent": ("missed",),
    "escalation_requested": ("reason", "priority"),
    "paused": ("days",),
    "resumed": (),
}
_SPAN = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|h|d)$")


def span(text: str) -> timedelta:
    match = _SPAN.match(text.strip())
    if not match:
        raise ValueError(f"bad span {text!r}")
    value, unit = float(match.group(1)), match.group(2)
    return (
        timedelta(minutes=value)
        if unit == "m"
        else timedelta(**{"h": {"hours": value}, "d": {"days": value}}[unit])
    )


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def next_due(tandem: Tandem) -> datetime | None:
    async with tandem.db.session() as session:
        fire = await session.scalar(
            select(func.min(ScheduleItem.next_fire_at)).where(ScheduleItem.status == "active")
        )
        timeout = await session.scalar(
            select(func.min(FlowRun.timeout_at)).where(FlowRun.status == "waiting")
        )
    due = [d for d in (fire, timeout) if d is not None]
    if not due:
        return None
    # SQLite hands back naive text from an aggregate; the column type is not applied there.
    return min(d if d.tzinfo else d.replace(tzinfo=ZoneInfo("UTC")) for d in due)


async def run_until(tandem: Tandem, clock: FakeClock, until: datetime) -> None:
    """Run the scheduler at every due instant up to `until`, then leave the clock there."""
    for _ in range(10_000):
        due = await next_due(tandem)
        if due is None or due > until:
            break
        clock.set(max(due, clock.now()))
        await tandem.scheduler.tick()
    clock.set(max(until, clock.now()))
    await tandem.scheduler.tick()


async def record(
    tandem: Tandem, patient_id: str, zone: str, after: tuple[int, int]
) -> tuple[list[str], tuple[int, int]]:
    """Bot messages and scheduler events since `after` (message id, event id), as lines."""
    tz = ZoneInfo(zone)
    async with tandem.db.session() as session:
        messages = (
            await session.execute(
                select(Message.id, Message.created_at, Message.body)
                .where(
                    Message.patient_id == patient_id,
                    Message.direction == "out",
                    Message.id > after[0],
                )
                .order_by(Message.id)
            )
        ).all()
        events = (
            await session.execute(
                select(Event.id, Event.at, Event.kind, Event.data)
                .where(
                    Event.patient_id == patient_id,
                    Event.kind.in_(SHOWN_EVENTS),
                    Event.id > after[1],
                )
                .order_by(Event.id)
            )
        ).all()
    items: list[tuple[datetime, int, str]] = []
    for _mid, at, body in messages:
        items.append((at, 1, "bot: " + body.replace("\n", "\n  ")))
    for _eid, at, kind, data in events:
        extra = " ".join(str(data.get(k)) for k in SHOWN_EVENTS[kind] if k in data)
        items.append((at, 0, f"* {kind} {extra}".rstrip()))
    items.sort(key=lambda item: (item[0], item[1]))
    lines = [f"[{at.astimezone(tz):%a %m-%d %H:%M %Z}] {text}" for at, _, text in items]
    last = (
        max([after[0], *(m[0] for m in messages)]),
        max([after[1], *(e[0] for e in events)]),
    )
    return lines, last


async def replay(
    tandem: Tandem, clock: FakeClock, header: dict[str, Any], script: list[str]
) -> list[str]:
    zone = str(header["zone"])
    address = str(header.get("address", "pat-1"))
    out: list[str] = []
    patient_id: str | None = None
    cursor = (0, 0)
    for line in script:
        kind, _, arg = line.partition(":")
        arg = arg.strip()
        if kind == "patient":
            receipt = await say(tandem, arg, address=address)
            if patient_id is None:
                patient_id = receipt.patient_id
                async with tandem.db.session() as session, session.begin():
                    await session.execute(
                        update(Patient)
                        .where(Patient.id == patient_id)
                        .values(
                            timezone=zone,
                            timezone_confirmed=True,
                            locale=header.get("locale", "en"),
                        )
                    )
        elif kind == "until":
            await run_until(tandem, clock, instant(arg))
        elif kind == "wait":
            await run_until(tandem, clock, clock.now() + span(arg))
        elif kind == "down":
            clock.advance(span(arg))
        elif kind == "set":
            column, _, value = arg.partition("=")
            async with tandem.db.session() as session, session.begin():
                await session.execute(
                    update(Patient).where(Patient.id == patient_id).values({column: value})
                )
        else:
            raise ValueError(f"cannot read script line {line!r}")
        out.append(line)
        if patient_id is not None:
            lines, cursor = await record(tandem, patient_id, zone, cursor)
            out.extend(lines)
    return out


def parse(path: Path) -> tuple[str, dict[str, Any], list[str], list[str]]:
    """(header text, header, script lines, all body lines) of a transcript file."""
    text = path.read_text(encoding="utf-8")
    head, _, body = text.partition("\n---\n")
    header = yaml.safe_load(head) or {}
    lines: list[str] = []
    for raw in body.splitlines():
        if raw.startswith("  ") and lines:
            lines[-1] += "\n" + raw
        elif raw.strip():
            lines.append(raw)
    script = [line for line in lines if not line.startswith("[")]
    return head, header, script, lines


def render(head: str, lines: list[str]) -> str:
    return head + "\n---\n" + "\n".join(lines) + "\n"
