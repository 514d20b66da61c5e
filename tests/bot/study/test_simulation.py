"""A simulated six-week study of 200 patients through the real pipeline with a fake clock, and
the analysis-ready export of it (one simulation feeds both: it takes minutes)."""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.research.export import Request, write_export
from bot.research.people import Window
from storage.db import Database
from storage.models import Patient, StudyDecision, StudyEnrolment
from tests.bot.study.sim import START, simulate
from tests.conftest import BACKEND

PATIENTS = 200


# Six weeks of 200 patients is some 8,400 decisions and thousands of pipeline turns: minutes.
# Once is enough: exactly-once decisions on PostgreSQL are tested with three worker processes.
@pytest.mark.timeout(1800)
@pytest.mark.skipif(BACKEND == "postgres", reason="the six-week study runs once, on SQLite")
async def test_six_weeks_of_a_study(db_url: str, tmp_path: Path) -> None:
    url = await simulate(db_url, tmp_path, patients=PATIENTS)
    db = Database(url)
    try:
        async with db.session() as session:
            enrolments = (await session.execute(select(StudyEnrolment))).scalars().all()
            rows = (await session.execute(select(StudyDecision))).scalars().all()
            statuses = dict((await session.execute(select(Patient.id, Patient.status))).all())
        folder = tmp_path / "export"
        request = Request(Window(), False, "cli")
        await write_export(db, folder, request, now=START + timedelta(weeks=8), key="k")
    finally:
        await db.close()
    _export_is_analysis_ready(folder, enrolments, rows)
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


def _read(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _export_is_analysis_ready(
    folder: Path, enrolments: Sequence[StudyEnrolment], rows: Sequence[StudyDecision]
) -> None:
    """Long format, one row per decision, typed as MRTAnalysis' `wcls` expects, no identifiers."""
    participants = _read(folder, "participants.csv")
    arms = {e.participant_id: e.arm for e in enrolments}
    assert {p["participant_id"]: p["arm"] for p in participants} == arms
    decisions = _read(folder, "decisions.csv")
    assert len(decisions) == len(rows)
    assert {d["participant_id"] for d in decisions} == set(arms)
    for d in decisions:
        assert d["available"] in ("0", "1") and d["decision_point"] == "evening_prompt"
        assert 0 <= int(d["decision_index"]) < 42
        if d["available"] == "1":
            assert d["action"] in ("none", "checkin_prompt") and d["unavailable_reason"] == ""
            assert 0 < float(d["probability"]) <= 1 and d["seed"]
        else:
            assert d["action"] == "" and d["unavailable_reason"]
        assert d["proximal_outcome"] in ("0", "1")
        assert d["decision_time_local"][11:16] == "19:00"
    per_person = Counter((d["participant_id"], d["decision_index"]) for d in decisions)
    assert set(per_person.values()) == {1}
    # De-identified: no patient id, address or typed text anywhere in any file.
    secrets = {e.patient_id for e in enrolments} | {"sim-1", "kill myself"}
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not [s for s in secrets if s in text], path.name
