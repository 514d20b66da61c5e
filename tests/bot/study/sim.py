"""A simulated study through the real pipeline and database with a fake clock: patients enrol
(half through the API, half by their first message), get micro-randomized evening prompts for six
weeks, answer some of them, and some pause, opt out (STOP) or disclose a crisis.

`await simulate(db_url, folder)` builds it all in the (migrated, empty) database at `db_url` and
returns that url, so other tests (the export) can read a finished study. Behaviour is drawn from
`random.Random(seed)`: the same seed gives the same study, arms and decisions included, except
for patient ids (random UUIDs) and what follows from them (participant ids, draws).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update

from bot.app import create_app
from bot.clock import FakeClock
from bot.coaching import accounts
from bot.service import Tandem
from bot.settings import Settings
from bot.study.points import aware
from flows.library import FlowLibrary
from storage.models import Patient, StudyDecision
from tests.bot.study.conftest import STUDY, write_study
from tests.helpers import say

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ZONES = ("America/New_York", "Europe/Madrid", "America/Mexico_City", "Asia/Tokyo", "UTC")
ENROL = "(enrol)"
REPLY_CHANCE = {"checkin_prompt": 0.6, "none": 0.15}  # how often a patient writes back


@dataclass
class Person:
    address: str
    patient_id: str = ""
    events: dict[datetime, str] = field(default_factory=dict)  # when -> what they send


def _people(rng: random.Random, patients: int) -> list[Person]:
    people = []
    for i in range(patients):
        person = Person(address=f"sim-{i}")
        enrol = START + timedelta(minutes=50 * i)  # enrolment over the first week
        person.events[enrol] = ENROL
        roll = rng.random()
        later = enrol + timedelta(days=rng.randint(3, 30), minutes=rng.randint(1, 720))
        if roll < 0.05:
            person.events[later] = "STOP"
        elif roll < 0.08:
            person.events[later] = "i want to kill myself"
        elif roll < 0.15:
            person.events[later] = "pause"
        people.append(person)
    return people


async def _enrol_api(
    tandem: Tandem,
    client: TestClient[web.Request, web.Application],
    token: str,
    address: str,
    rng: random.Random,
) -> str:
    body = {
        "channel": "telegram",
        "address": address,
        "locale": rng.choice(["en", "es"]),
        "timezone": rng.choice(ZONES),
        "consent": {"obtained_at": tandem.clock.now().isoformat(), "method": "verbal", "by": "Bo"},
    }
    created = await client.post(
        "/api/v1/patients", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status == 201, await created.text()
    return str((await created.json())["id"])


async def _enrol_contact(tandem: Tandem, person: Person, rng: random.Random) -> str:
    receipt = await say(tandem, "hi", address=person.address)
    async with tandem.db.session() as session, session.begin():
        await session.execute(
            update(Patient)
            .where(Patient.id == receipt.patient_id)
            .values(consent_given=True, timezone=rng.choice(ZONES), timezone_confirmed=True)
        )
    return receipt.patient_id


async def _act(tandem: Tandem, person: Person, text: str) -> None:
    if text == "pause":  # another area's doing (a coach pausing for a week)
        async with tandem.db.session() as session, session.begin():
            await session.execute(
                update(Patient)
                .where(Patient.id == person.patient_id)
                .values(status="paused", paused_until=tandem.clock.now() + timedelta(days=7))
            )
        return
    if person.address.startswith("sim-"):
        await say(tandem, text, address=person.address)
    else:
        await say(tandem, text, address=person.address, channel="telegram")


async def _decided_at(tandem: Tandem, at: datetime) -> list[tuple[str, str | None]]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(StudyDecision.patient_id, StudyDecision.action).where(
                StudyDecision.status == "decided", StudyDecision.decided_utc == at
            )
        )
        return [(pid, action) for pid, action in rows.all()]


async def _next_due(tandem: Tandem, people: list[Person]) -> datetime | None:
    """The next instant anything happens: a decision, an outcome window closing, a patient
    writing. Jumping from one to the next keeps six weeks short."""
    async with tandem.db.session() as session:
        decision = await session.scalar(
            select(func.min(StudyDecision.scheduled_utc)).where(StudyDecision.status == "pending")
        )
        window = await session.scalar(
            select(func.min(StudyDecision.proximal_due_at)).where(
                StudyDecision.proximal_due_at.is_not(None),
                StudyDecision.proximal_outcome.is_(None),
            )
        )
    found = [aware(d) for d in (decision, window) if d is not None]
    found += [min(p.events) for p in people if p.events]
    return min(found) if found else None


async def simulate(db_url: str, folder: Path, *, patients: int = 200, seed: int = 7) -> str:
    """Run a six-week study of `patients` in the database at `db_url`; returns `db_url`."""
    rng = random.Random(seed)
    clock = FakeClock(START)
    path = write_study(
        folder, STUDY | {"decision_points": [{**STUDY["decision_points"][0], "days": 42}]}
    )
    settings = Settings(database_url=db_url, try_channel="on", study_file=path)
    tandem = Tandem(settings, clock=clock, library=FlowLibrary.load())
    people = _people(rng, patients)
    try:
        async with tandem.db.session() as session, session.begin():
            coach = await accounts.create_coach(session, "sim@example.org", "Bo", "admin", START)
            token = await accounts.issue_token(session, coach, START)
        assert tandem.study_runner is not None
        async with TestClient(TestServer(create_app(tandem))) as client:
            by_id: dict[str, Person] = {}
            while (due := await _next_due(tandem, people)) is not None:
                clock.set(max(due, clock.now()))
                step = clock.now()
                for i, person in enumerate(people):
                    for when in sorted(w for w in person.events if w <= step):
                        text = person.events.pop(when)
                        if text == ENROL:  # half through the API, half by a first message
                            if i % 2:
                                person.patient_id = await _enrol_contact(tandem, person, rng)
                            else:
                                person.address = str(100000 + i)
                                person.patient_id = await _enrol_api(
                                    tandem, client, token, person.address, rng
                                )
                            by_id[person.patient_id] = person
                        else:
                            await _act(tandem, person, text)
                await tandem.scheduler.tick()
                await tandem.study_runner.tick()
                for patient_id, action in await _decided_at(tandem, step):
                    if action is not None and rng.random() < REPLY_CHANCE[action]:
                        minutes = rng.randint(10, 240)  # some after the three-hour window
                        by_id[patient_id].events[step + timedelta(minutes=minutes)] = "7"
    finally:
        await tandem.close()
    return db_url
