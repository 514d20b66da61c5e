"""Three `tandem worker` processes on one PostgreSQL with a study: every due decision is decided
exactly once and prompts once, even with one process killed (SIGKILL) mid-burst."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Select, func, insert, select

from bot.study.allocation import participant_id
from bot.study.config import load_study
from storage.db import Database
from storage.models import (
    ChannelIdentity,
    Event,
    OutboxItem,
    Patient,
    StudyDecision,
    StudyEnrolment,
)
from tests.bot.study.conftest import point, write_study
from tests.conftest import BACKEND
from tests.e2e.server import Worker

PATIENTS = 400
FAST = {
    "TANDEM_SCHEDULER_INTERVAL_SECONDS": "0.2",
    "TANDEM_SCHEDULE_BATCH_SIZE": "5",
    "TANDEM_QUIET_HOURS_START": "00:00",  # real wall-clock time: whatever the hour, no quiet
    "TANDEM_QUIET_HOURS_END": "00:00",
}
ALWAYS = [
    {"id": "none", "probability": 0.0},
    {"id": "checkin_prompt", "probability": 1.0, "flow": "checkin"},
]


async def _seed(db: Database, path: Path, due: datetime) -> None:
    study = load_study(path)
    patients, identities, enrolments, rows = [], [], [], []
    for i in range(PATIENTS):
        pid = str(uuid4())
        part = participant_id(study, pid)
        patients.append(
            {"id": pid, "created_at": due, "locale": "en", "timezone": "UTC",
             "status": "active", "consent_given": True, "timezone_confirmed": True}
        )  # fmt: skip
        identities.append({"patient_id": pid, "channel": "try", "address": f"s-{i}",
                           "created_at": due})  # fmt: skip
        enrolments.append(
            {"patient_id": pid, "study_id": study.id, "participant_id": part,
             "arm": "control", "stratum": "locale=en", "block_index": i // 4,
             "block_position": i % 4, "enrolled_at": due}
        )  # fmt: skip
        rows.append(
            {"study_id": study.id, "patient_id": pid, "participant_id": part,
             "decision_point": "evening_prompt", "decision_index": 0, "status": "pending",
             "timezone": "UTC", "scheduled_utc": due,
             "scheduled_local": due.strftime("%Y-%m-%dT%H:%M:%S"),
             "unavailable_reasons": [], "probabilities": {}, "created_at": due,
             "updated_at": due}
        )  # fmt: skip
    async with db.session() as session, session.begin():
        await session.execute(insert(Patient), patients)
        await session.execute(insert(ChannelIdentity), identities)
        await session.execute(insert(StudyEnrolment), enrolments)
        await session.execute(insert(StudyDecision), rows)


async def _count(db: Database, query: Select[int]) -> int:
    async with db.session() as session:
        return int(await session.scalar(query) or 0)


@pytest.mark.skipif(BACKEND != "postgres", reason="several processes need PostgreSQL")
async def test_three_processes_decide_each_decision_exactly_once(
    db_url: str, tmp_path: Path
) -> None:
    path = write_study(tmp_path, decision_points=[point(actions=ALWAYS)])
    env = {**FAST, "TANDEM_STUDY_FILE": str(path)}
    db = Database(db_url)
    workers = [Worker(db_url, tmp_path / f"worker-{i}.log", **env) for i in range(3)]
    decided = select(func.count()).select_from(Event).where(Event.kind == "study_decided")
    pending = (
        select(func.count()).select_from(StudyDecision).where(StudyDecision.status == "pending")
    )
    try:
        await _seed(db, path, datetime.now(UTC) - timedelta(minutes=1))
        await asyncio.gather(*(worker.start(timeout=90) for worker in workers))
        deadline = asyncio.get_running_loop().time() + 90
        while await _count(db, decided) < PATIENTS // 4:
            assert asyncio.get_running_loop().time() < deadline, "nothing decided"
            await asyncio.sleep(0.05)
        workers[0].stop()  # SIGKILL mid-burst: its open batch rolls back, the others take it
        while await _count(db, pending):
            assert asyncio.get_running_loop().time() < deadline, "decisions left pending"
            await asyncio.sleep(0.1)
        async with db.session() as session:
            per_patient = (
                await session.execute(
                    select(Event.patient_id, func.count())
                    .where(Event.kind == "study_decided")
                    .group_by(Event.patient_id)
                )
            ).all()
            outbox = (
                await session.execute(
                    select(OutboxItem.patient_id, func.count()).group_by(OutboxItem.patient_id)
                )
            ).all()
            rows = (await session.execute(select(StudyDecision))).scalars().all()
        assert len(per_patient) == PATIENTS and {n for _, n in per_patient} == {1}
        assert len(outbox) == PATIENTS and {n for _, n in outbox} == {1}  # one prompt each
        assert {(r.available, r.action, r.probability) for r in rows} == {
            (True, "checkin_prompt", 1.0)
        }
    finally:
        for worker in workers:
            worker.stop()
        await db.close()
