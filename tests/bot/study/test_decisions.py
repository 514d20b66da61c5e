"""Micro-randomized decisions: one row per participant and occurrence, every unavailability
reason typed, the draw replayable from the row, the prompt sent through the pipeline, and the
proximal outcome written."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from flows.library import FlowLibrary
from storage import repo
from storage.models import Event, Message, Patient, StudyEnrolment
from tests.bot.study.conftest import point, write_study
from tests.bot.study.helpers import decisions, enrolled, tick
from tests.helpers import last_id, outbound, say

DAY1 = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)  # enrolled 03-02 12:00 UTC: first decision


def replayed(seed: str, table: dict[str, float]) -> str:
    u = random.Random(int(seed)).random()
    total = 0.0
    for action, p in table.items():
        total += p
        if u < total:
            return action
    raise AssertionError("no action")


async def test_available_decisions_draw_replayably_and_prompt(
    standem: Tandem, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = iter(range(1, 100))  # fixed patient ids: fixed participant ids and draws
    monkeypatch.setattr(repo, "uuid4", lambda: uuid.UUID(int=next(ids)))
    patients = [await enrolled(standem, f"p{i}") for i in range(8)]
    clock.set(DAY1 + timedelta(minutes=1))
    before = await last_id(standem)
    assert await tick(standem) == 8
    actions = set()
    for patient_id in patients:
        first, *rest = await decisions(standem, patient_id)
        assert [r.status for r in rest] == ["pending", "pending"]
        assert first.available is True and first.unavailable_reasons == []
        assert first.decided_utc == clock.now() and first.decided_local == "2026-03-03T19:01:00"
        assert first.scheduled_local == "2026-03-03T19:00:00" and first.timezone == "UTC"
        assert first.probabilities == {"none": 0.5, "checkin_prompt": 0.5}
        assert first.policy_version is not None and first.policy_version.startswith("fixed:")
        assert first.seed is not None and replayed(first.seed, first.probabilities) == first.action
        assert first.probability == 0.5
        assert first.proximal_due_at == clock.now() + timedelta(hours=3)
        sent = await outbound(standem, patient_id, after=before)
        assert bool(sent) == (first.action == "checkin_prompt")
        assert all("mood" in body.lower() for body in sent)
        actions.add(first.action)
    assert actions == {"none", "checkin_prompt"}
    assert await tick(standem) == 0  # decided once


async def test_reply_within_the_window_is_the_proximal_outcome(
    standem: Tandem, clock: FakeClock
) -> None:
    replies, silent = await enrolled(standem, "r"), await enrolled(standem, "s")
    clock.set(DAY1)
    await tick(standem)
    clock.advance(timedelta(hours=1))
    await say(standem, "7", address="r")
    replied_at = clock.now()
    await tick(standem)
    (row, *_) = await decisions(standem, replies)
    assert (row.proximal_outcome, row.proximal_outcome_at) == (1.0, replied_at)
    (quiet, *_) = await decisions(standem, silent)
    assert quiet.proximal_outcome is None  # the window is still open
    clock.advance(timedelta(hours=2))
    await tick(standem)
    (quiet, *_) = await decisions(standem, silent)
    assert (quiet.proximal_outcome, quiet.proximal_outcome_at) == (0.0, DAY1 + timedelta(hours=3))
    # A later message does not change a written outcome.
    await say(standem, "late", address="s")
    await tick(standem)
    assert (await decisions(standem, silent))[0].proximal_outcome == 0.0


async def _set(tandem: Tandem, patient_id: str, **values: object) -> None:
    async with tandem.db.session() as session, session.begin():
        await session.execute(update(Patient).where(Patient.id == patient_id).values(**values))


async def _log(tandem: Tandem, patient_id: str, kind: str, at: datetime) -> None:
    async with tandem.db.session() as session, session.begin():
        await repo.log(session, at, kind, patient_id, {})


Setup = Callable[[Tandem, str, FakeClock], Awaitable[None]]


async def _crisis(t: Tandem, p: str, c: FakeClock) -> None:
    await _set(t, p, safety_state={"check": {"level": "concern"}})


async def _takeover(t: Tandem, p: str, c: FakeClock) -> None:
    await _set(t, p, bot_paused=True)


async def _paused(t: Tandem, p: str, c: FakeClock) -> None:
    await _set(t, p, status="paused", paused_until=DAY1 + timedelta(days=2))


async def _opted_out(t: Tandem, p: str, c: FakeClock) -> None:
    await _set(t, p, status="opted_out")


async def _no_consent(t: Tandem, p: str, c: FakeClock) -> None:
    await _set(t, p, consent_given=None)


async def _busy(t: Tandem, p: str, c: FakeClock) -> None:
    c.set(DAY1 - timedelta(minutes=2))
    await say(t, "hello", address="x")  # onboarding asks a question: the patient is mid-flow


async def _recent(t: Tandem, p: str, c: FakeClock) -> None:
    await _log(t, p, "schedule_fired", DAY1 - timedelta(hours=2))


async def _missed(t: Tandem, p: str, c: FakeClock) -> None:
    c.set(DAY1 + timedelta(hours=3))  # the service was down past the two-hour grace


async def _withdrawn(t: Tandem, p: str, c: FakeClock) -> None:
    async with t.db.session() as session, session.begin():
        await session.execute(
            update(StudyEnrolment).where(StudyEnrolment.patient_id == p).values(withdrawn_at=DAY1)
        )


@pytest.mark.parametrize(
    ("setup", "reasons"),
    [
        (_crisis, ["crisis"]),
        (_takeover, ["takeover"]),
        (_paused, ["paused"]),
        (_opted_out, ["opted_out"]),
        (_no_consent, ["no_consent"]),
        (_busy, ["busy"]),
        (_recent, ["recent_prompt"]),
        (_missed, ["missed", "quiet_hours"]),  # 22:00: late and quiet
        (_withdrawn, ["withdrawn"]),
    ],
)
async def test_each_unavailability_reason(
    standem: Tandem, clock: FakeClock, setup: Setup, reasons: list[str]
) -> None:
    patient_id = await enrolled(standem, "x")
    clock.set(DAY1)
    await setup(standem, patient_id, clock)
    before = len(await outbound(standem, patient_id))
    clock.set(max(clock.now(), DAY1))
    await tick(standem)
    (row, *_) = await decisions(standem, patient_id)
    assert row.status == "decided" and row.available is False
    assert row.unavailable_reasons == reasons
    assert row.action is None and row.probability is None and row.seed is None
    assert row.probabilities == {}
    assert len(await outbound(standem, patient_id)) == before  # nothing was sent


async def test_quiet_hours_make_a_decision_unavailable(
    settings: Settings, clock: FakeClock, library: FlowLibrary, tmp_path: Path
) -> None:
    path = write_study(tmp_path, decision_points=[point(local_times=["22:30"])])
    tandem = Tandem(settings.model_copy(update={"study_file": path}), clock=clock, library=library)
    try:
        patient_id = await enrolled(tandem, "q", timezone="America/Chicago")
        clock.set(datetime(2026, 3, 4, 4, 30, tzinfo=UTC))  # 22:30 CST on 03-03
        await tick(tandem)
        (row, *_) = await decisions(tandem, patient_id)
        assert row.timezone == "America/Chicago" and row.decided_local == "2026-03-03T22:30:00"
        assert (row.available, row.unavailable_reasons) == (False, ["quiet_hours"])
    finally:
        await tandem.close()


async def test_several_reasons_are_all_recorded(standem: Tandem, clock: FakeClock) -> None:
    patient_id = await enrolled(standem, "x")
    await _set(standem, patient_id, status="paused", safety_state={"check": {}}, bot_paused=True)
    await _set(standem, patient_id, safety_state={"check": {"level": "risk"}})
    clock.set(DAY1)
    await tick(standem)
    (row, *_) = await decisions(standem, patient_id)
    assert row.unavailable_reasons == ["crisis", "paused"]  # the hold is the crisis's own


async def test_a_zone_change_moves_pending_decisions(standem: Tandem, clock: FakeClock) -> None:
    patient_id = await enrolled(standem, "z")
    await _set(standem, patient_id, timezone="America/New_York")
    clock.set(DAY1 - timedelta(hours=4))  # the next tick re-times before anything is due
    assert await tick(standem) == 0
    clock.set(DAY1)  # 19:00 UTC is 14:00 in New York: nothing is due there yet
    assert await tick(standem) == 0
    rows = await decisions(standem, patient_id)
    assert [r.status for r in rows] == ["pending"] * 3
    assert rows[0].timezone == "America/New_York"
    assert rows[0].scheduled_local == "2026-03-03T19:00:00"
    assert rows[0].scheduled_utc == datetime(2026, 3, 4, 0, 0, tzinfo=UTC)
    clock.set(datetime(2026, 3, 4, 0, 0, tzinfo=UTC))
    await tick(standem)
    assert (await decisions(standem, patient_id))[0].status == "decided"


async def test_prompt_counts_for_min_hours_since_prompt(
    settings: Settings, clock: FakeClock, library: FlowLibrary, tmp_path: Path
) -> None:
    two = point(
        local_times=["17:00", "19:00"],
        actions=[
            {"id": "none", "probability": 0.0},
            {"id": "checkin_prompt", "probability": 1.0, "flow": "checkin"},
        ],
    )
    path = write_study(tmp_path, decision_points=[two])
    tandem = Tandem(settings.model_copy(update={"study_file": path}), clock=clock, library=library)
    try:
        patient_id = await enrolled(tandem, "m")
        clock.set(datetime(2026, 3, 3, 17, 0, tzinfo=UTC))
        await tick(tandem)
        clock.set(DAY1 + timedelta(minutes=11))  # the check-in from 17:00 is no longer "busy"
        await tick(tandem)
        first, second, *_ = await decisions(tandem, patient_id)
        assert (first.action, first.probability) == ("checkin_prompt", 1.0)
        assert second.unavailable_reasons == ["recent_prompt"]
        async with tandem.db.session() as session:
            sent = await session.scalar(
                select(Event.id).where(Event.kind == "study_prompt_sent").limit(1)
            )
            assert sent is not None
            bodies = (await session.execute(select(Message.body))).scalars().all()
            assert bodies
    finally:
        await tandem.close()


async def test_a_zone_change_defers_every_row_of_the_batch(
    settings: Settings, clock: FakeClock, library: FlowLibrary, tmp_path: Path
) -> None:
    path = write_study(tmp_path, decision_points=[point(local_times=["17:00", "19:00"])])
    tandem = Tandem(settings.model_copy(update={"study_file": path}), clock=clock, library=library)
    try:
        patient_id = await enrolled(tandem, "t")
        await _set(tandem, patient_id, timezone="America/Los_Angeles")
        clock.set(DAY1)  # both UTC rows are due; in Los Angeles it is 11:00
        assert tandem.study_runner is not None
        assert await tandem.study_runner.run_batch() == 2  # claimed, re-timed, not decided
        rows = await decisions(tandem, patient_id)
        assert {r.status for r in rows} == {"pending"}
        assert [r.scheduled_local[11:16] for r in rows[:2]] == ["17:00", "19:00"]
    finally:
        await tandem.close()
