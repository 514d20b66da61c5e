"""The dispatcher's claim: its plan on a deep queue, leases on the database clock, and the
opt-out cancel that replaced the per-claim sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text, update

from bot.channels.base import OutboundMessage, SendResult
from bot.clock import FakeClock
from bot.outbox import Dispatcher, DispatcherConfig, cancel_for_patient
from storage.db import Database
from storage.models import ChannelIdentity, Event, Message, OutboxItem, Patient

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Recorder:
    name = "sms"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message.text)
        return SendResult(provider_message_id=f"SM{len(self.sent)}")


async def seed(
    db: Database, patients: int, per_patient: int, *, status: str = "pending", start: int = 1
) -> None:
    """`patients` x `per_patient` outbox rows (and their messages) in bulk."""
    async with db.session() as session, session.begin():
        if start == 1:
            await session.execute(
                insert(Patient),
                [{"id": f"p{n}", "created_at": NOW, "locale": "en", "timezone": "UTC",
                  "status": "active"} for n in range(patients)],
            )  # fmt: skip
        ids = range(start, start + patients * per_patient)
        common = {"direction": "out", "channel": "sms", "body": "hi", "created_at": NOW}
        await session.execute(
            insert(Message),
            [{"id": i, "patient_id": f"p{i % patients}", "status": "queued", "updated_at": NOW,
              **common} for i in ids],
        )  # fmt: skip
        await session.execute(
            insert(OutboxItem),
            [{"id": i, "patient_id": f"p{i % patients}", "message_id": i, "channel": "sms",
              "address": f"+1555{i % patients:07d}", "body": "hi", "choices": [], "priority": 0,
              "status": status, "attempts": 0, "next_attempt_at": NOW, "created_at": NOW}
             for i in ids],
        )  # fmt: skip


async def explain(db: Database, statement: Any) -> str:
    async with db.engine.connect() as conn:
        compiled = statement.compile(
            dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
        )
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        result = await conn.exec_driver_sql("EXPLAIN " + str(compiled), params)
        return "\n".join(str(row[0]) for row in result)


async def test_claim_walks_the_pending_index_on_a_deep_queue(database: Database) -> None:
    if not database.is_postgres:
        pytest.skip("the planner's choice is PostgreSQL's")
    await seed(database, 1000, 15, status="sent")  # history the claim must not read
    await seed(database, 1000, 10, start=100_000)
    async with database.engine.begin() as conn:
        await conn.execute(text("ANALYZE outbox"))
    dispatcher = Dispatcher(database, {}, FakeClock(NOW))
    plan = await explain(database, dispatcher.claim_query(NOW, 50))
    # Walked in claim order: no scan of the table, no sort of every pending row.
    assert "Index Scan using ix_outbox_pending_priority_id on outbox " in plan + " ", plan
    assert "Seq Scan on outbox" not in plan, plan
    assert "Sort" not in plan, plan


def _busiest_probe(node: dict[str, Any]) -> float:
    """The most rows a repeated plan node reads per execution, anywhere in the plan."""
    loops = node.get("Actual Loops", 1)
    read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0) / max(loops, 1)
    own = read if loops > 1 else 0.0
    return max([own, *(_busiest_probe(child) for child in node.get("Plans", []))])


async def test_claim_probes_each_patient_cheaply_when_few_patients_queue_deep(
    database: Database,
) -> None:
    """A few busy conversations, each with a reply in flight and many queued behind it, and no
    planner statistics (autovacuum off): each pending row's check for an earlier or in-flight
    row of its patient must stay a small probe, not a walk over every queued row (the inbound
    benchmark's claims took 100-400 ms that way and dispatch fell behind)."""
    if not database.is_postgres:
        pytest.skip("the planner's choice is PostgreSQL's")
    await seed(database, 16, 1, status="sending")
    await seed(database, 16, 60, start=100)
    dispatcher = Dispatcher(database, {}, FakeClock(NOW))
    compiled = dispatcher.claim_query(NOW, 50).compile(
        dialect=database.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    assert "'pending'" in str(compiled)  # inline, so a generic plan could use partial indexes
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    async with database.engine.begin() as conn:
        await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        result = await conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), params
        )
        plan = result.scalar_one()[0]["Plan"]
    assert _busiest_probe(plan) <= 20, plan
    # ...and that custom plan is the one the claim runs: a prepared statement's generic plan,
    # made once per connection while the table was small, is what walked every queued row.
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert await dispatcher._claim() == []  # every patient has a reply in flight
    finally:
        event.remove(engine, "before_cursor_execute", record)
    claim = next(i for i, sql in enumerate(seen) if "FOR UPDATE OF outbox SKIP LOCKED" in sql)
    assert any("force_custom_plan" in sql for sql in seen[:claim]), seen


async def test_lease_expiry_is_judged_by_the_database_clock(database: Database) -> None:
    await seed(database, 2, 1)
    async with database.session() as session, session.begin():
        # p1's row was claimed just now by a live process; p0's by one that died long ago.
        await session.execute(
            update(OutboxItem).values(status="sending", claimed_at=datetime.now(UTC), attempts=1)
        )
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.patient_id == "p0")
            .values(claimed_at=datetime.now(UTC) - timedelta(hours=1))
        )
    channel = Recorder()
    # This process's clock runs a day ahead: it must not take p1's live lease for expired.
    clock = FakeClock(datetime.now(UTC) + timedelta(days=1))
    config = DispatcherConfig(lease=timedelta(minutes=2))
    dispatcher = Dispatcher(database, {"sms": channel}, clock, config)
    assert await dispatcher.drain() == 1
    async with database.session() as session:
        rows = dict((await session.execute(select(OutboxItem.patient_id, OutboxItem.status))).all())
    assert rows == {"p0": "sent", "p1": "sending"}


async def test_opt_out_cancels_ordinary_rows_but_keeps_urgent_and_staff_rows(
    database: Database,
) -> None:
    await seed(database, 1, 3)
    async with database.session() as session, session.begin():
        session.add(
            ChannelIdentity(patient_id="p0", channel="sms", address="+15550000000", created_at=NOW)
        )
        await session.execute(update(OutboxItem).where(OutboxItem.id == 2).values(priority=10))
        # An alert about the patient addressed to their coach's phone.
        await session.execute(
            update(OutboxItem).where(OutboxItem.id == 3).values(address="+15559990000")
        )
    async with database.session() as session, session.begin():
        assert await cancel_for_patient(session, "p0", NOW) == 1
    async with database.session() as session:
        rows = dict((await session.execute(select(OutboxItem.id, OutboxItem.status))).all())
        message = await session.get(Message, 1)
        events = list((await session.execute(select(Event.kind, Event.data))).all())
    assert rows == {1: "cancelled", 2: "pending", 3: "pending"}
    assert message is not None and message.status == "failed"
    assert events == [("message_cancelled", {"outbox_id": 1})]


async def test_a_row_queued_after_the_opt_out_is_cancelled_when_claimed(
    database: Database,
) -> None:
    await seed(database, 2, 1)
    async with database.session() as session, session.begin():
        for n in range(2):
            address = f"+1555{n:07d}"
            session.add(
                ChannelIdentity(patient_id=f"p{n}", channel="sms", address=address, created_at=NOW)
            )
        await session.execute(update(Patient).where(Patient.id == "p1").values(status="opted_out"))
    channel = Recorder()
    dispatcher = Dispatcher(database, {"sms": channel}, FakeClock(NOW))
    assert await dispatcher.drain() == 1
    async with database.session() as session:
        rows = dict((await session.execute(select(OutboxItem.patient_id, OutboxItem.status))).all())
    assert rows == {"p0": "sent", "p1": "cancelled"}
    assert len(channel.sent) == 1
