"""Three `tandem serve` processes on one PostgreSQL: every due schedule fires exactly once, even
with one process killed (SIGKILL) in the middle of the burst."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Select, func, insert, select

from storage.db import Database
from storage.models import ChannelIdentity, Event, FlowRun, OutboxItem, Patient, ScheduleItem
from tests.conftest import BACKEND
from tests.e2e.server import Server

PATIENTS = 600
FAST = {
    "TANDEM_SCHEDULER_INTERVAL_SECONDS": "0.2",
    "TANDEM_SCHEDULE_BATCH_SIZE": "5",
    # Real wall-clock time: no quiet hours, so whatever the hour the rows are due now.
    "TANDEM_QUIET_HOURS_START": "00:00",
    "TANDEM_QUIET_HOURS_END": "00:00",
}


async def _seed(db: Database, due: datetime) -> None:
    patients, identities, schedules = [], [], []
    for i in range(PATIENTS):
        pid = str(uuid4())
        patients.append(
            {
                "id": pid,
                "created_at": due,
                "locale": "en",
                "timezone": "UTC",
                "status": "active",
                "display_name": f"P{i}",
                "checkin_time": "09:00",
                "consent_given": True,
            }
        )
        identities.append(
            {"patient_id": pid, "channel": "try", "address": f"mp-{i}", "created_at": due}
        )
        schedules.append(
            {
                "patient_id": pid,
                "key": "checkin",
                "kind": "checkin",
                "payload": {"flow": "checkin"},
                "recurrence": "daily",
                "local_time": "09:00",
                "status": "active",
                "next_fire_at": due,
                "attempts": 0,
                "missed": 0,
                "created_at": due,
                "updated_at": due,
            }
        )
    async with db.session() as session, session.begin():
        await session.execute(insert(Patient), patients)
        await session.execute(insert(ChannelIdentity), identities)
        await session.execute(insert(ScheduleItem), schedules)


async def _count(db: Database, query: Select[int]) -> int:
    async with db.session() as session:
        return int(await session.scalar(query) or 0)


@pytest.mark.skipif(BACKEND != "postgres", reason="several processes need PostgreSQL")
async def test_three_processes_fire_each_due_schedule_exactly_once(
    db_url: str, tmp_path: Path
) -> None:
    db = Database(db_url)
    servers = [Server(db_url, tmp_path / f"serve-{i}.log", args=(), **FAST) for i in range(3)]
    fired = select(func.count()).select_from(Event).where(Event.kind == "schedule_fired")
    try:
        await _seed(db, datetime.now(UTC) - timedelta(minutes=1))
        await asyncio.gather(*(server.start() for server in servers))
        deadline = asyncio.get_running_loop().time() + 60
        while await _count(db, fired) < PATIENTS // 4:
            assert asyncio.get_running_loop().time() < deadline, "nothing fired"
            await asyncio.sleep(0.05)
        servers[0].kill()  # mid-burst: its open batch rolls back; the others take it over
        killed_at = await _count(db, fired)
        assert killed_at < PATIENTS, "the burst finished before the kill; use more patients"
        pending = (
            select(func.count())
            .select_from(ScheduleItem)
            # The seeded check-ins (firing them also creates each patient's measure cadence).
            .where(ScheduleItem.kind == "checkin", ScheduleItem.last_fired_at.is_(None))
        )
        while await _count(db, pending):
            assert asyncio.get_running_loop().time() < deadline, "schedules left unfired"
            await asyncio.sleep(0.1)

        assert await _count(db, fired) == PATIENTS
        async with db.session() as session:
            per_patient = (
                await session.execute(
                    select(Event.patient_id, func.count())
                    .where(Event.kind == "schedule_fired")
                    .group_by(Event.patient_id)
                )
            ).all()
            outbox = (
                await session.execute(
                    select(OutboxItem.patient_id, func.count()).group_by(OutboxItem.patient_id)
                )
            ).all()
            runs = await session.scalar(select(func.count()).select_from(FlowRun))
        assert len(per_patient) == PATIENTS and {n for _, n in per_patient} == {1}
        # One check-in prompt per patient in the outbox: nothing lost, nothing doubled.
        assert len(outbox) == PATIENTS and {n for _, n in outbox} == {1}
        assert runs == PATIENTS
    finally:
        for server in servers:
            server.stop()
        await db.close()
