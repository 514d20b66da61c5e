"""Measurement-based care over eight simulated weeks, through the real pipeline, scheduler and
database with a fake clock: the PHQ-9 / GAD-7 cadence at the patient's local check-in time
(across a DST change), the patient's own progress, response and remission, a measure completed
recently not asked twice, and the week-6 non-response escalation raised exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FakeClock
from bot.runs import to_state
from bot.scheduling import control, measures
from bot.service import Tandem
from bot.settings import Settings
from flows.steps.measure import MeasureStep
from storage import repo
from storage.models import Escalation, Event, Message, Patient, ScheduleItem
from tests.bot.scheduling.sim import run_until
from tests.helpers import say

ZONE = "America/New_York"
START = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # Mon 08:00 EST; DST starts Sun 03-08
ADDRESS = "mbc-1"


def answers_for(measure: str, total: int) -> dict[int, int]:
    """Item answers adding up to `total`, item 9 always 0 (no crisis in this simulation)."""
    numbers = list(range(1, 9)) if measure == "phq9" else list(range(1, 8))
    out = dict.fromkeys(numbers, 0)
    left = total
    for n in numbers:
        out[n] = min(3, left)
        left -= out[n]
    assert left == 0
    return {**out, 9: 0, 10: 1} if measure == "phq9" else out


async def answer_measures(tandem: Tandem, patient_id: str, totals: dict[str, int]) -> list[str]:
    """Answer every measure item the patient is asked until no measure waits; the measures
    answered, in order."""
    done: list[str] = []
    for _ in range(40):
        async with tandem.db.session() as session:
            run = to_state(await repo.active_run(session, patient_id))
        if run is None or run.status != "waiting":
            break
        step = tandem.library.get(run.flow_id, run.flow_version).steps[run.state]
        if not isinstance(step, MeasureStep):
            break
        index = int(run.variables.get(f"{step.prefix}_item") or 0)
        number = index + 1  # items are numbered 1, 2, 3, ... in order
        value = answers_for(step.measure, totals[step.measure])[number]
        if not done or done[-1] != step.measure:
            done.append(step.measure)
        await say(tandem, str(value), address=ADDRESS)
    return done


async def events(tandem: Tandem, patient_id: str, kind: str) -> list[tuple[datetime, Any]]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Event.at, Event.data)
            .where(Event.patient_id == patient_id, Event.kind == kind)
            .order_by(Event.id)
        )
        return [(at if at.tzinfo else at.replace(tzinfo=UTC), data) for at, data in rows.all()]


async def texts_since(tandem: Tandem, patient_id: str, after: datetime) -> list[str]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Message.body)
            .where(
                Message.patient_id == patient_id,
                Message.direction == "out",
                Message.created_at >= after,
            )
            .order_by(Message.id)
        )
        return list(rows.scalars())


async def enrol(tandem: Tandem, clock: FakeClock) -> str:
    receipt = await say(tandem, "hi", address=ADDRESS)
    pid = receipt.patient_id
    async with tandem.db.session() as session, session.begin():
        await session.execute(
            update(Patient)
            .where(Patient.id == pid)
            .values(timezone=ZONE, timezone_confirmed=True, consent_given=True, display_name="Sam")
        )
        run = await repo.active_run(session, pid)
        assert run is not None
        run.status, run.timeout_at = "ended", None  # onboarding is not what this test is about
        patient = await repo.lock_patient(session, pid)
        assert patient is not None
        await control.set_checkin_time(
            session,
            patient,
            datetime(2026, 1, 1, 9).time(),
            clock.now(),
            tandem.settings,
        )
    return pid


@pytest.fixture
async def tandem(db_url: str) -> AsyncIterator[tuple[Tandem, FakeClock]]:
    clock = FakeClock(START)
    t = Tandem(Settings(database_url=db_url, try_channel="on"), clock=clock)
    yield t, clock
    await t.close()


async def test_eight_weeks_of_measurement_based_care(
    tandem: tuple[Tandem, FakeClock],
) -> None:
    t, clock = tandem
    pid = await enrol(t, clock)
    async with t.db.session() as session:
        row = await repo_find(session, pid)
    assert row.recurrence == "every" and row.local_time == "09:00"
    assert row.next_fire_at is not None
    fire_at = row.next_fire_at if row.next_fire_at.tzinfo else row.next_fire_at.replace(tzinfo=UTC)
    assert fire_at.astimezone(ZoneInfo(ZONE)) == datetime(2026, 3, 16, 9, 0, tzinfo=ZoneInfo(ZONE))

    # Baseline (day 0): PHQ-9 16, GAD-7 12, e.g. from onboarding.
    await t.pipeline.start_flow(pid, "measure_checkup")
    assert await answer_measures(t, pid, {"phq9": 16, "gad7": 12}) == ["phq9", "gad7"]
    first = await texts_since(t, pid, START)
    assert any("Your score is 16 out of 27 (lower means fewer problems)" in x for x in first)

    plan = [  # (fortnight, PHQ-9, GAD-7)
        (1, 15, 8),
        (2, 13, 5),
        (3, 12, 4),  # week 6: PHQ-9 dropped 25% (non-response); GAD-7 4 (remission)
    ]
    starts: list[datetime] = []
    for fortnight, phq9, gad7 in plan:
        day = START + timedelta(days=14 * fortnight)
        await run_until(t, clock, day + timedelta(hours=3))  # past 09:00 local and its defers
        started = await events(t, pid, "measures_started")
        assert len(started) == fortnight, f"fortnight {fortnight}: {started}"
        starts.append(started[-1][0])
        asked = await answer_measures(t, pid, {"phq9": phq9, "gad7": gad7})
        assert asked == ["phq9", "gad7"]
        said = await texts_since(t, pid, started[-1][0])
        if fortnight == 1:  # the second time: compared with the start only
            assert any("15 out of 27: about the same as when you started (16). " in x for x in said)
            assert any("8 out of 21: lower than when you started (12). " in x for x in said)
        if fortnight == 3:
            assert any(
                "12 out of 27: lower than when you started (16), and about the same as last "
                "time (13)" in x
                for x in said
            ), said

    # Every cadence fire at the patient's own 09:00 (deferred at most by the check-in running
    # then), before and after the switch to daylight saving time.
    for at in starts:
        local = at.astimezone(ZoneInfo(ZONE))
        assert (local.hour, local.weekday()) == (9, 0), local

    outcomes = {(d["measure"], d["total"]): d for _, d in await events(t, pid, "measure_outcome")}
    assert outcomes[("gad7", 4)]["response"] and outcomes[("gad7", 4)]["remission"]
    assert outcomes[("gad7", 4)]["non_response"] is False
    assert outcomes[("phq9", 12)]["non_response"] is True
    assert not outcomes[("phq9", 12)]["response"] and not outcomes[("phq9", 12)]["remission"]
    assert outcomes[("phq9", 15)]["non_response"] is None  # week 2: not decided yet

    # Day 53: a PHQ-9 from the menu. Day 56: the cadence asks only the GAD-7 and says why.
    await run_until(t, clock, START + timedelta(days=53, hours=5))
    await t.pipeline.start_flow(pid, "measure_phq9")
    assert await answer_measures(t, pid, {"phq9": 11}) == ["phq9"]
    await run_until(t, clock, START + timedelta(days=56, hours=3))
    skipped = await events(t, pid, "measure_skipped")
    assert [(d["measure"], d["reason"]) for _, d in skipped] == [("phq9", "completed_recently")]
    started = await events(t, pid, "measures_started")
    assert started[-1][1] == {"flow": "measure_gad7", "measures": ["gad7"]}
    assert await answer_measures(t, pid, {"gad7": 3}) == ["gad7"]

    # Non-response: one routine escalation to the coach, raised by the week-6 measure only.
    async with t.db.session() as session:
        escalations = (
            (await session.execute(select(Escalation).where(Escalation.patient_id == pid)))
            .scalars()
            .all()
        )
    flagged = [e for e in escalations if e.reason == "non_response"]
    assert len(flagged) == 1 and flagged[0].priority == "normal"
    assert "phq9 non-response at week 6: 12 (baseline 16" in (flagged[0].detail or "")
    assert len(await events(t, pid, "non_response")) == 1


async def repo_find(session: AsyncSession, pid: str) -> ScheduleItem:
    row = (
        await session.execute(
            select(ScheduleItem).where(
                ScheduleItem.patient_id == pid, ScheduleItem.key == measures.KIND
            )
        )
    ).scalar_one()
    return row
