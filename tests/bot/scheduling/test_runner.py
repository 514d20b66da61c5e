"""The scheduler's batches: facts read once per batch, and a broken row redone on its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from bot.service import Tandem
from storage.models import ChannelIdentity, Event, OutboxItem, Patient, ScheduleItem


async def _enrol(tandem: Tandem, n: int, payload: dict[str, Any]) -> str:
    now = tandem.clock.now()
    pid = f"p{n}"
    async with tandem.db.session() as session, session.begin():
        await session.execute(
            insert(Patient),
            [{"id": pid, "created_at": now, "locale": "en", "timezone": "UTC", "status": "active",
              "display_name": f"P{n}", "checkin_time": "12:00", "consent_given": True,
              "timezone_confirmed": True}],
        )  # fmt: skip
        await session.execute(
            insert(ChannelIdentity),
            [{"patient_id": pid, "channel": "try", "address": f"s{n}", "created_at": now}],
        )
        await session.execute(
            insert(ScheduleItem),
            [{"patient_id": pid, "key": "checkin", "kind": "checkin", "payload": payload,
              "recurrence": "daily", "local_time": "12:00", "status": "active",
              "next_fire_at": now, "attempts": 0, "missed": 0, "created_at": now,
              "updated_at": now}],
        )  # fmt: skip
    return pid


async def test_a_broken_row_fails_alone_and_the_rest_of_its_batch_fires(tandem: Tandem) -> None:
    good = [await _enrol(tandem, n, {"flow": "checkin"}) for n in range(3)]
    broken = await _enrol(tandem, 9, {"flow": "no_such_flow"})
    assert await tandem.scheduler.run_batch() == 4
    async with tandem.db.session() as session:
        queued = set((await session.execute(select(OutboxItem.patient_id).distinct())).scalars())
        item = await session.scalar(select(ScheduleItem).where(ScheduleItem.patient_id == broken))
        failed = await session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "schedule_failed")
        )
    assert queued == set(good)
    assert item is not None and item.attempts == 1 and "no_such_flow" in (item.last_error or "")
    assert failed == 1


async def test_a_second_run_fires_nothing_twice(tandem: Tandem) -> None:
    for n in range(5):
        await _enrol(tandem, n, {"flow": "checkin"})
    assert await tandem.scheduler.tick() == 5
    assert await tandem.scheduler.tick() == 0
    async with tandem.db.session() as session:
        fired = await session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "schedule_fired")
        )
    assert fired == 5
