"""The scheduler's claim on PostgreSQL when a whole cohort is due at one instant (a zone's
09:00): its plan reads the batch in claim order from the index and stops, no sort of the group."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from bot.service import Tandem
from storage.models import Patient, ScheduleItem

DUE = 3000


async def test_claim_reads_a_batch_in_order_when_thousands_share_an_instant(
    tandem: Tandem,
) -> None:
    if not tandem.db.is_postgres:
        pytest.skip("the planner's choice is PostgreSQL's")
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        await session.execute(
            insert(Patient),
            [{"id": f"p{n}", "created_at": now, "locale": "en", "timezone": "UTC",
              "status": "active"} for n in range(DUE)],
        )  # fmt: skip
        await session.execute(
            insert(ScheduleItem),
            [{"patient_id": f"p{n}", "key": "checkin", "kind": "checkin", "payload": {},
              "recurrence": "daily", "local_time": "09:00", "status": "active",
              "next_fire_at": now, "attempts": 0, "missed": 0, "created_at": now,
              "updated_at": now} for n in range(DUE)],
        )  # fmt: skip
    async with tandem.db.engine.begin() as conn:
        await conn.execute(text("ANALYZE schedules"))
        await conn.execute(text("ANALYZE patients"))
        compiled = tandem.scheduler.claim_query(now).compile(dialect=conn.dialect)
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        result = await conn.exec_driver_sql("EXPLAIN " + str(compiled), params)
        plan = "\n".join(str(row[0]) for row in result)
    assert "ix_schedules_status_next_fire_at_id on schedules" in plan, plan
    assert "Sort" not in plan, plan  # incremental or not: the whole instant's group was sorted
    assert "Seq Scan on schedules" not in plan, plan
