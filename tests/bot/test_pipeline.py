"""The inbound pipeline on a real database: store, step, persist, dedupe, fail safely, in order."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.chain import Result, Stage
from bot.clock import FakeClock
from bot.service import Tandem
from storage.models import Event, FlowRun, Message, OutboxItem, Patient
from tests.helpers import last_id, outbound, say


async def test_first_message_enrols_and_starts_onboarding(tandem: Tandem) -> None:
    receipt = await say(tandem, "hello")
    assert receipt.new_patient and not receipt.duplicate
    sent = await outbound(tandem, receipt.patient_id)
    assert sent[0].startswith("Hi, this is Tandem")
    assert sent[-1] == "Would you like to join? Reply YES to agree or NO if not."
    async with tandem.db.session() as session:
        run = (await session.execute(select(FlowRun))).scalar_one()
        assert (run.flow_id, run.state, run.status) == ("onboarding", "consent", "waiting")
        queued = await session.scalar(select(func.count()).select_from(OutboxItem))
        assert queued == len(sent)


async def test_onboarding_then_checkin_persists_everything(tandem: Tandem) -> None:
    for text in ["hi", "yes", "Sam", "8:30pm"]:
        receipt = await say(tandem, text)
    async with tandem.db.session() as session:
        patient = await session.get(Patient, receipt.patient_id)
        assert patient is not None
        assert patient.consent_given is True and patient.consent_at is not None
        assert patient.consent_method == "chat:try"
        assert patient.consent_text and "join" in patient.consent_text
        assert (patient.display_name, patient.checkin_time) == ("Sam", "20:30")
        runs = (await session.execute(select(FlowRun).order_by(FlowRun.id))).scalars().all()
        first = runs[0]
        assert (first.flow_id, first.status, first.outcome) == ("onboarding", "ended", "completed")
        assert runs[-1].status == "waiting"  # onboarding hands over to what comes next
        kinds = set((await session.execute(select(Event.kind))).scalars())
        assert {"patient_enrolled", "consent", "transition", "answer", "flow_ended"} <= kinds
    await tandem.pipeline.start_flow(receipt.patient_id, "checkin")
    before = await last_id(tandem)
    await say(tandem, "3")
    await say(tandem, "skip")
    sent = await outbound(tandem, receipt.patient_id, after=before)
    assert sent[-1].startswith("Thank you for telling me")


async def test_duplicate_provider_id_is_stored_once_and_answered_once(tandem: Tandem) -> None:
    first = await say(tandem, "hi", mid="SM1")
    again = await say(tandem, "hi", mid="SM1")
    assert again.duplicate and again.message_id is None
    async with tandem.db.session() as session:
        inbound = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "in")
        )
    assert inbound == 1
    assert len(await outbound(tandem, first.patient_id)) == 3


async def test_failing_step_keeps_message_marked_failed(tandem: Tandem) -> None:
    async def explode(turn: object, message: Message) -> Result:
        raise RuntimeError("boom")

    tandem.pipeline.chain.add(Stage.MENU + 1, explode)
    receipt = await say(tandem, "hi")
    async with tandem.db.session() as session:
        msg = await session.get(Message, receipt.message_id)
        assert msg is not None and msg.status == "failed"
        assert msg.error is not None and "boom" in msg.error
        assert await session.scalar(select(func.count()).select_from(FlowRun)) == 0
    tandem.pipeline.chain.remove(explode)
    await say(tandem, "hello again")
    assert len(await outbound(tandem, receipt.patient_id)) == 3


async def test_fifty_concurrent_messages_processed_one_at_a_time_in_order(tandem: Tandem) -> None:
    for text in ["hi", "yes", "Sam", "9am"]:
        await say(tandem, text)
    seen: list[int] = []
    active = 0
    most = 0

    async def watch(turn: object, message: Message) -> Result:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0)  # let other requests run if anything allowed them in
        seen.append(message.id)
        active -= 1
        return Result.CONTINUE

    # Right after safety: it sees every message, whatever later interceptors (the menu) handle.
    tandem.pipeline.chain.add(Stage.SAFETY + 1, watch)
    texts = [str(i % 11) for i in range(50)]
    receipts = await asyncio.gather(*(say(tandem, t, mid=f"c{i}") for i, t in enumerate(texts)))
    ids = sorted(r.message_id or 0 for r in receipts)
    assert len(set(ids)) == 50
    assert seen == ids  # every message processed once, in the order it was stored
    assert most == 1
    async with tandem.db.session() as session:
        statuses = (
            await session.execute(select(Message.status).where(Message.direction == "in"))
        ).scalars()
        assert set(statuses) == {"processed"}


async def test_timeout_reminds_once_then_closes(tandem: Tandem, clock: FakeClock) -> None:
    from datetime import timedelta

    receipt = await say(tandem, "hi")
    before = await last_id(tandem)
    clock.advance(timedelta(hours=25))
    assert await tandem.scheduler.fire_timeouts() == 1
    assert await outbound(tandem, receipt.patient_id, after=before) == [
        "Just checking: would you like to join? Reply YES or NO."
    ]
    clock.advance(timedelta(hours=25))
    assert await tandem.scheduler.fire_timeouts() == 1
    async with tandem.db.session() as session:
        run = (await session.execute(select(FlowRun))).scalar_one()
        assert (run.status, run.outcome) == ("ended", "no_reply")
    assert await tandem.scheduler.fire_timeouts() == 0
