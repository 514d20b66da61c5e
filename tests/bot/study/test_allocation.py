"""Arm allocation: permuted blocks balanced in every complete block and stratum, reproducible
from the seed, at API enrolment and at first contact, never changed."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app import create_app
from bot.clock import FakeClock
from bot.coaching import accounts
from bot.service import Tandem
from bot.study.allocation import participant_id, place
from bot.study.config import Study
from storage import repo
from storage.models import Patient, PatientFact, StudyDecision, StudyEnrolment
from tests.bot.study.conftest import STUDY
from tests.helpers import say


def _study(ratios: list[int], multiple: int, seed: int, strata: list[str]) -> Study:
    return Study.model_validate(
        {
            "id": "s",
            "arms": [{"id": f"arm{i}", "ratio": r} for i, r in enumerate(ratios)],
            "randomization": {
                "method": "block",
                "block_size": sum(ratios) * multiple,
                "strata": strata,
                "seed": seed,
            },
        }
    )


designs = st.tuples(
    st.lists(st.integers(1, 3), min_size=1, max_size=4),
    st.integers(1, 3),
    st.integers(0, 2**40),
)


@given(designs, st.lists(st.sampled_from(["en", "es", "fr"]), max_size=80))
@settings(max_examples=60, deadline=None)
def test_every_complete_block_is_balanced(
    design: tuple[list[int], int, int], arrivals: list[str]
) -> None:
    ratios, multiple, seed = design
    study = _study(ratios, multiple, seed, ["locale"])
    size = study.randomization.block_size
    counts: Counter[str] = Counter()
    by_stratum: dict[str, list[str]] = {}
    for stratum in arrivals:
        arm, block_index, position = place(study, stratum, counts[stratum])
        assert (block_index, position) == divmod(counts[stratum], size)
        counts[stratum] += 1
        by_stratum.setdefault(stratum, []).append(arm)
    for arms in by_stratum.values():
        for start in range(0, len(arms) - size + 1, size):
            got = Counter(arms[start : start + size])
            assert got == {f"arm{i}": r * multiple for i, r in enumerate(ratios)}
        # An incomplete block is never off by more than one block's share per arm.
        tail = Counter(arms[len(arms) - len(arms) % size :])
        assert all(tail[f"arm{i}"] <= r * multiple for i, r in enumerate(ratios))


@given(designs, st.integers(1, 40))
@settings(max_examples=40, deadline=None)
def test_same_seed_same_allocation(design: tuple[list[int], int, int], n: int) -> None:
    ratios, multiple, seed = design
    first = [place(_study(ratios, multiple, seed, []), "", i)[0] for i in range(n)]
    again = [place(_study(ratios, multiple, seed, []), "", i)[0] for i in range(n)]
    assert first == again


def test_another_seed_or_stratum_gives_another_sequence() -> None:
    study = _study([1, 1], 2, 1, ["locale"])
    other = _study([1, 1], 2, 2, ["locale"])
    seq = [place(study, "locale=en", i)[0] for i in range(40)]
    assert seq != [place(other, "locale=en", i)[0] for i in range(40)]
    assert seq != [place(study, "locale=es", i)[0] for i in range(40)]


def test_participant_ids_are_stable_per_study_and_pseudonymous() -> None:
    study = _study([1, 1], 1, 7, [])
    other = Study.model_validate({**study.model_dump(), "id": "another"})
    pid = participant_id(study, "patient-uuid")
    assert pid == participant_id(study, "patient-uuid") and len(pid) == 24
    assert pid != participant_id(other, "patient-uuid")
    assert "patient" not in pid


async def _enrolments(tandem: Tandem) -> list[StudyEnrolment]:
    async with tandem.db.session() as session:
        rows = await session.execute(select(StudyEnrolment).order_by(StudyEnrolment.enrolled_at))
        return list(rows.scalars())


async def test_first_contact_enrols_with_the_seeded_sequence(
    standem: Tandem, clock: FakeClock
) -> None:
    study = standem.study
    assert study is not None
    for i in range(6):
        await say(standem, "hi", address=f"p{i}")
        clock.advance(timedelta(seconds=1))
    rows = await _enrolments(standem)
    assert [r.arm for r in rows] == [place(study, "locale=en", i)[0] for i in range(6)]
    assert [(r.block_index, r.block_position) for r in rows] == [divmod(i, 4) for i in range(6)]
    assert Counter(r.arm for r in rows[:4]) == {"control": 2, "coached": 2}
    async with standem.db.session() as session:
        planned = await session.scalar(select(func.count()).select_from(StudyDecision))
        coached = [r.patient_id for r in rows if r.arm == "coached"]
        programs = await session.execute(
            select(Patient.program, PatientFact.value)
            .join(PatientFact, PatientFact.patient_id == Patient.id)
            .where(Patient.id.in_(coached), PatientFact.name == "program")
        )
        assert {tuple(p) for p in programs.all()} == {("ba", "ba")}
    assert planned == 6 * 3  # three days of one evening prompt each
    # Writing again never moves anyone.
    await say(standem, "again", address="p0")
    assert [r.arm for r in await _enrolments(standem)] == [r.arm for r in rows]


async def _client_and_token(tandem: Tandem) -> tuple[Any, str]:
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        boss = await accounts.create_coach(session, "boss@example.org", "Bo", "admin", now)
        token = await accounts.issue_token(session, boss, now)
    return TestClient(TestServer(create_app(tandem))), token


async def test_api_enrolment_shows_the_arm(standem: Tandem) -> None:
    client, token = await _client_and_token(standem)
    headers = {"Authorization": f"Bearer {token}"}
    async with client:
        arms = []
        for i in range(4):
            body = {"channel": "sms", "address": f"+1415555010{i}", "locale": "es"}
            created = await client.post("/api/v1/patients", json=body, headers=headers)
            assert created.status == 201, await created.text()
            patient_id = (await created.json())["id"]
            shown = await client.get(f"/api/v1/patients/{patient_id}", headers=headers)
            arms.append((await shown.json())["arm"])
    study = standem.study
    assert study is not None
    assert arms == [place(study, "locale=es", i)[0] for i in range(4)]


async def test_patients_from_before_the_study_have_no_arm(tandem: Tandem, standem: Tandem) -> None:
    await say(tandem, "hi", address="early")  # the same database, no study file yet
    client, token = await _client_and_token(standem)
    async with standem.db.session() as session:
        patient = await repo.find_patient(session, "try", "early")
    assert patient is not None
    async with client:
        shown = await client.get(
            f"/api/v1/patients/{patient.id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert (await shown.json())["arm"] is None
    await say(standem, "hello again", address="early")
    assert await _enrolments(standem) == []


async def test_concurrent_enrolments_take_distinct_places(standem: Tandem) -> None:
    await asyncio.gather(*(say(standem, "hi", address=f"c{i}") for i in range(12)))
    rows = await _enrolments(standem)
    places = sorted(r.block_index * 4 + r.block_position for r in rows)
    assert places == list(range(12))
    assert Counter(r.arm for r in rows) == {"control": 6, "coached": 6}


def test_fixture_study_is_the_issue_example(study_path: Path) -> None:
    assert study_path.read_text(encoding="utf-8").startswith("id: ba-sms-pilot")
    assert STUDY["randomization"]["seed"] == 20261201
