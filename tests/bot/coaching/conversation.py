"""Recorded safety conversations through the real pipeline, coach included, that a clinician
can read. Transcript files (tests/bot/coaching/transcripts/*.txt):

    # A patient discloses, answers the safety check, a coach takes over and hands back
    locale: en                   (optional)
    address: "+15551230001"      (optional: the patient's phone, which picks the help lines)
    coach: true                  (optional: a coach account exists and is the patient's coach)
    onboarded: true              (optional: consent, name and check-in time given first)
    ---
    patient: i want to end my life tonight
    wait: 20m                    the clock moves on
    coach: take over             also `coach: say <text>`, `coach: hand back`
    bot: ...                     what the bot sent (recorded)
    coach says: ...              what the coach sent (recorded)
    * escalation_opened risk urgent

Lines starting with `bot:`, `coach says:` and `*` are the recorded output, rewritten by
`pytest --regen-transcripts`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update

from bot.clock import FakeClock
from bot.coaching import accounts
from bot.service import Tandem
from storage.models import Coach, Event, Message, Patient
from tests.bot.scheduling.sim import span
from tests.helpers import say

SHOWN_EVENTS = {
    "escalation_opened": ("reason", "priority"),
    "escalation_repeated": ("priority",),
    "safety_check_done": ("outcome",),
    "takeover_started": (),
    "takeover_ended": (),
}
OUTPUT = ("bot:", "coach says:", "*")
ONBOARDING = {"en": ["yes", "Sam", "8pm"], "es": ["sí", "Ana", "8pm"]}


def parse(path: Path) -> tuple[str, dict[str, Any], list[str]]:
    head, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
    header = yaml.safe_load(head) or {}
    lines: list[str] = []
    for raw in body.splitlines():
        if raw.startswith("  ") and lines:
            lines[-1] += "\n" + raw
        elif raw.strip():
            lines.append(raw)
    return head, header, lines


async def _record(
    tandem: Tandem, patient_id: str, after: tuple[int, int]
) -> tuple[list[str], tuple[int, int]]:
    async with tandem.db.session() as session:
        messages = (
            await session.execute(
                select(Message.id, Message.body, Message.payload)
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
                select(Event.id, Event.kind, Event.data)
                .where(
                    Event.patient_id == patient_id,
                    Event.kind.in_(SHOWN_EVENTS),
                    Event.id > after[1],
                )
                .order_by(Event.id)
            )
        ).all()
    lines = []
    for _id, body, payload in messages:
        who = "coach says" if (payload or "").startswith("coach:") else "bot"
        lines.append(f"{who}: " + body.replace("\n", "\n  "))
    for _id, kind, data in events:
        extra = " ".join(str(data[k]) for k in SHOWN_EVENTS[kind] if k in data)
        lines.append(f"* {kind} {extra}".rstrip())
    last = (
        max([after[0], *(m[0] for m in messages)]),
        max([after[1], *(e[0] for e in events)]),
    )
    return lines, last


async def replay(
    tandem: Tandem, clock: FakeClock, header: dict[str, Any], script: list[str]
) -> list[str]:
    address = str(header.get("address", "pat-1"))
    coach: Coach | None = None
    if header.get("coach"):
        async with tandem.db.session() as session, session.begin():
            coach = await accounts.create_coach(
                session, "kim@example.org", "Kim", "coach", clock.now()
            )
    receipt = await say(tandem, "hi", address=address)
    patient_id = receipt.patient_id
    async with tandem.db.session() as session, session.begin():
        values: dict[str, Any] = {"locale": header.get("locale", "en")}
        if coach is not None:
            values["coach_id"] = coach.id
        await session.execute(update(Patient).where(Patient.id == patient_id).values(values))
    if header.get("onboarded"):
        # The real onboarding (consent, name, check-in time); its texts are not shown.
        for answer in ONBOARDING[str(header.get("locale", "en"))]:
            await say(tandem, answer, address=address)
    _, cursor = await _record(tandem, patient_id, (0, 0))
    out: list[str] = []
    for line in script:
        kind, _, arg = line.partition(":")
        arg = arg.strip()
        if kind == "patient":
            clock.advance(timedelta(seconds=30))
            await say(tandem, arg, address=address)
        elif kind == "wait":
            clock.advance(span(arg))
            await tandem.coaching.tick()
        elif kind == "coach" and coach is not None:
            await _coach(tandem, patient_id, coach, arg)
        else:
            raise ValueError(f"cannot read script line {line!r}")
        out.append(line)
        lines, cursor = await _record(tandem, patient_id, cursor)
        out.extend(lines)
    return out


async def _coach(tandem: Tandem, patient_id: str, coach: Coach, action: str) -> None:
    if action == "take over":
        await tandem.coaching.take_over(patient_id, coach)
    elif action == "hand back":
        await tandem.coaching.release(patient_id, coach, outcome="talked it through")
    elif action.startswith("say "):
        await tandem.coaching.coach_message(patient_id, coach, action[4:])
    else:
        raise ValueError(f"unknown coach action {action!r}")


def render(head: str, lines: list[str]) -> str:
    return head + "\n---\n" + "\n".join(lines) + "\n"
