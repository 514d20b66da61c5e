"""A simulated six-week study of 200 patients through the real pipeline with a fake clock."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Patient, StudyDecision, StudyEnrolment
from tests.bot.study.sim import simulate

PATIENTS = 200


# Six weeks of 200 patients is some 8,400 decisions and thousands of pipeline turns: minutes.
@pytest.mark.timeout(1800)
async def test_six_weeks_of_a_study(db_url: str, tmp_path: Path) -> None:
    url = await simulate(db_url, tmp_path, patients=PATIENTS)
    db = Database(url)
    try:
        async with db.session() as session:
            enrolments = (await session.execute(select(StudyEnrolment))).scalars().all()
            rows = (await session.execute(select(StudyDecision))).scalars().all()
            statuses = dict((await session.execute(select(Patient.id, Patient.status))).all())
    finally:
        await db.close()
    assert len(enrolments) == PATIENTS
    strata = Counter(e.stratum for e in enrolments)
    assert set(strata) == {"locale=en", "locale=es"}
    for stratum in strata:  # every complete block of every stratum is balanced
        blocks = Counter((e.block_index, e.arm) for e in enrolments if e.stratum == stratum)
        for index in range(strata[stratum] // 4):
            assert blocks[(index, "control")] == blocks[(index, "coached")] == 2
    # One row per participant and day, every one decided, every outcome written.
    assert len(rows) == PATIENTS * 42
    assert Counter(r.patient_id for r in rows) == {e.patient_id: 42 for e in enrolments}
    assert {r.status for r in rows} == {"decided"}
    assert all(r.proximal_outcome in (0.0, 1.0) for r in rows)
    assert all(r.decided_local and r.decided_local[11:16] == "19:00" for r in rows)
    reasons = Counter(reason for r in rows for reason in r.unavailable_reasons)
    assert {"opted_out", "crisis", "paused"} <= set(reasons)
    opted = {pid for pid, status in statuses.items() if status == "opted_out"}
    assert opted and all(
        "opted_out" in r.unavailable_reasons
        for r in rows
        if r.patient_id in opted and r.decision_index == 41
    )
    available = [r for r in rows if r.available]
    assert len(available) > PATIENTS * 42 * 0.7
    for row in available:
        assert row.seed is not None and row.action in row.probabilities
        u = random.Random(int(row.seed)).random()
        assert (u < 0.5) == (row.action == "none")
    assert all(r.action is None and r.seed is None for r in rows if not r.available)
    # Prompted patients answered more often (the simulated behaviour), and both arms of the
    # micro-randomization were drawn about equally.
    drawn = Counter(r.action for r in available)
    assert abs(drawn["none"] - drawn["checkin_prompt"]) < 0.1 * len(available)
    rate = {
        action: sum(r.proximal_outcome or 0 for r in available if r.action == action)
        / drawn[action]
        for action in drawn
    }
    assert rate["checkin_prompt"] > rate["none"] + 0.2
