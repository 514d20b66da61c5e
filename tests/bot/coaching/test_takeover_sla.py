"""Takeover and hand-back, SLA misses reaching the backup, takeover reminders, coach alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.base import OutboundMessage, SendResult
from bot.clock import FakeClock
from bot.coaching import accounts
from bot.coaching.takeover import TakeoverError
from bot.service import Tandem
from storage.models import Coach, Escalation, Event, FlowRun, Message, Patient
from tests.bot.coaching.test_crisis import onboard
from tests.helpers import last_id, outbound, say


class Phone:
    """A channel standing in for the coaches' own phones."""

    name = "sms"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(f"P{len(self.sent)}")


async def add_coach(tandem: Tandem, email: str, role: str = "coach", **extra: object) -> Coach:
    async with tandem.db.session() as session, session.begin():
        coach = await accounts.create_coach(
            session, email, email.split("@")[0], role, tandem.clock.now()
        )
        for name, value in extra.items():
            setattr(coach, name, value)
    return coach


async def assign(tandem: Tandem, patient_id: str, coach: Coach) -> None:
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, patient_id)
        assert patient is not None
        patient.coach_id = coach.id


async def events(tandem: Tandem, kind: str) -> list[Event]:
    async with tandem.db.session() as session:
        rows = await session.execute(select(Event).where(Event.kind == kind).order_by(Event.id))
        return list(rows.scalars())


async def test_takeover_pauses_bot_relays_and_hands_back(tandem: Tandem, clock: FakeClock) -> None:
    coach = await add_coach(tandem, "kim@example.org")
    patient_id = await onboard(tandem)
    await assign(tandem, patient_id, coach)
    queue = tandem.bus.subscribe()
    try:
        await tandem.coaching.take_over(patient_id, coach)
        assert (await queue.get()).kind == "takeover_started"
        before = await last_id(tandem)
        await say(tandem, "7")  # would answer the check-in's mood question
        assert await outbound(tandem, patient_id, after=before) == []
        live = await queue.get()
        assert live.kind == "patient_message" and live.patient_id == patient_id
        message = await tandem.coaching.coach_message(patient_id, coach, "Hi Sam, Kim here.")
        assert message.payload == f"coach:{coach.id}"
        assert await outbound(tandem, patient_id, after=before) == ["Hi Sam, Kim here."]
        # Safety still runs during a takeover, and still alerts.
        await say(tandem, "i want to die")
        sent = await outbound(tandem, patient_id, after=before)
        assert "988" in sent[1]
        (esc,) = await _escalations(tandem)
        assert esc.coach_id == coach.id and esc.priority == "urgent"
        # Scheduled/timeout content stays away while paused.
        clock.advance(timedelta(days=2))
        quiet = await last_id(tandem)
        await tandem.scheduler.fire_timeouts()
        assert await outbound(tandem, patient_id, after=quiet) == []
        await tandem.coaching.release(patient_id, coach, outcome="talked it through, safe")
        (esc,) = await _escalations(tandem)
        assert esc.status == "resolved" and esc.outcome == "talked it through, safe"
        async with tandem.db.session() as session:
            run_before = await session.scalar(select(FlowRun.id).where(FlowRun.status != "ended"))
        before = await last_id(tandem)
        await say(tandem, "6")  # the flow resumes where it was: the same run answers
        assert await outbound(tandem, patient_id, after=before)
        async with tandem.db.session() as session:
            answered = await session.get(FlowRun, run_before)
            assert answered is not None and answered.updated_at == tandem.clock.now()
    finally:
        tandem.bus.unsubscribe(queue)


async def test_takeover_conflicts_and_messages_need_a_takeover(tandem: Tandem) -> None:
    kim = await add_coach(tandem, "kim@example.org")
    lee = await add_coach(tandem, "lee@example.org")
    patient_id = await onboard(tandem)
    with pytest.raises(TakeoverError):
        await tandem.coaching.coach_message(patient_id, kim, "hello")
    first = await tandem.coaching.take_over(patient_id, kim)
    assert (await tandem.coaching.take_over(patient_id, kim)).id == first.id
    with pytest.raises(TakeoverError):
        await tandem.coaching.take_over(patient_id, lee)
    with pytest.raises(TakeoverError):
        await tandem.coaching.release(patient_id, lee)


async def test_sla_miss_notifies_backup_and_phone(tandem: Tandem, clock: FakeClock) -> None:
    phone = Phone()
    tandem.dispatcher.channels["sms"] = phone
    backup = await add_coach(
        tandem, "bo@example.org", notify_channel="sms", notify_address="+15550001111"
    )
    coach = await add_coach(
        tandem,
        "kim@example.org",
        backup_id=backup.id,
        notify_channel="sms",
        notify_address="+15550002222",
    )
    patient_id = await onboard(tandem)
    await assign(tandem, patient_id, coach)
    await say(tandem, "kms")
    await tandem.dispatcher.drain()
    assert [m.address for m in phone.sent] == ["+15550002222"]
    assert "urgent escalation (risk)" in phone.sent[0].text
    clock.advance(timedelta(minutes=14))
    await tandem.coaching.tick()
    assert await events(tandem, "escalation_sla_missed") == []
    clock.advance(timedelta(minutes=2))
    await tandem.coaching.tick()
    await tandem.dispatcher.drain()
    (missed,) = await events(tandem, "escalation_sla_missed")
    assert missed.data["notified"] == [backup.id]
    assert [m.address for m in phone.sent] == ["+15550002222", "+15550001111"]
    assert "not acknowledged in time" in phone.sent[1].text
    await tandem.coaching.tick()  # told once, not on every tick
    assert len(await events(tandem, "escalation_sla_missed")) == 1


async def test_pool_escalation_goes_to_supervisor_when_missed(
    tandem: Tandem, clock: FakeClock
) -> None:
    boss = await add_coach(tandem, "boss@example.org", role="supervisor")
    patient_id = await onboard(tandem)
    await say(tandem, "can i speak to a human")
    notified = await events(tandem, "coach_notified")
    assert [e.data["coach_id"] for e in notified] == [boss.id]  # the pool: every available coach
    clock.advance(timedelta(hours=5))
    await tandem.coaching.tick()
    (missed,) = await events(tandem, "escalation_sla_missed")
    assert missed.data["notified"] == [boss.id] and missed.patient_id == patient_id


async def test_acknowledged_in_time_means_no_backup(tandem: Tandem, clock: FakeClock) -> None:
    coach = await add_coach(tandem, "kim@example.org")
    patient_id = await onboard(tandem)
    await assign(tandem, patient_id, coach)
    await say(tandem, "i want to kill myself")
    (esc,) = await _escalations(tandem)
    clock.advance(timedelta(minutes=5))
    await tandem.coaching.acknowledge(esc.id, coach)
    clock.advance(timedelta(hours=1))
    await tandem.coaching.tick()
    assert await events(tandem, "escalation_sla_missed") == []
    (ack,) = await events(tandem, "escalation_acknowledged")
    assert ack.data == {"escalation_id": esc.id, "coach_id": coach.id, "late": False}


async def test_takeover_left_open_reminds_the_coach(tandem: Tandem, clock: FakeClock) -> None:
    coach = await add_coach(tandem, "kim@example.org")
    patient_id = await onboard(tandem)
    await tandem.coaching.take_over(patient_id, coach)
    clock.advance(timedelta(minutes=59))
    await tandem.coaching.tick()
    assert [e.data.get("why") for e in await events(tandem, "coach_notified")] == []
    clock.advance(timedelta(minutes=2))
    await tandem.coaching.tick()
    await tandem.coaching.tick()
    assert [e.data["why"] for e in await events(tandem, "coach_notified")] == ["takeover_open"]


async def test_release_to_menu_without_menu_flow_just_resumes(tandem: Tandem) -> None:
    coach = await add_coach(tandem, "kim@example.org")
    patient_id = await onboard(tandem)
    await tandem.coaching.take_over(patient_id, coach)
    await tandem.coaching.release(patient_id, coach, resume="menu")
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None and not patient.bot_paused
        assert await session.scalar(select(Message.id).where(Message.payload.is_not(None))) is None


async def _escalations(tandem: Tandem) -> list[Escalation]:
    async with tandem.db.session() as session:
        return list((await session.execute(select(Escalation).order_by(Escalation.id))).scalars())
