"""Staff alerts: who was told about an escalation (coach, on-call phone, nobody), texts to the
on-call and coaches' phones through the outbox to the fake Twilio API (retried, never in a
transcript, never cancelled by the patient's opt-out), safeguarding on escalations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FakeClock
from bot.coaching import accounts, escalations
from bot.console import queries
from bot.service import Tandem
from bot.settings import Settings
from storage.models import Coach, Escalation, Event, Message, OutboxItem, Patient
from tests.bot.channels.conftest import PUBLIC_URL, channel_settings
from tests.fakes import twilio as tw
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio
from tests.helpers import say

ONCALL = "+14155550100"
COACH_PHONE = "+14155550111"
PATIENT = "+14155550199"
WORDS = "i want to kill myself tonight"


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def make(
    db_url: str, clock: FakeClock, fake_twilio: FakeTwilio, fake_telegram: FakeTelegram
) -> AsyncIterator[Callable[..., Tandem]]:
    """A Tandem with SMS (the fake Twilio) unless `sms=False`; extra settings as keywords."""
    made: list[Tandem] = []

    def build(*, sms: bool = True, **extra: Any) -> Tandem:
        if sms:
            settings = channel_settings(db_url, fake_twilio, fake_telegram, **extra)
        else:
            settings = Settings(database_url=db_url, try_channel="on", **extra)
        made.append(Tandem(settings, clock=clock))
        return made[-1]

    yield build
    for tandem in made:
        await tandem.close()


async def add_coach(tandem: Tandem, email: str, role: str = "coach", **extra: object) -> Coach:
    async with tandem.db.session() as session, session.begin():
        coach = await accounts.create_coach(session, email, email[:3], role, tandem.clock.now())
        for name, value in extra.items():
            setattr(coach, name, value)
    return coach


async def sms_patient(tandem: Tandem) -> str:
    receipt = await say(tandem, "hi", channel="sms", address=PATIENT, mid="SMhi")
    await tandem.dispatcher.drain()
    return receipt.patient_id


async def open_urgent(
    tandem: Tandem, patient_id: str, detail: str = "", **kw: Any
) -> tuple[Escalation, str]:
    async with tandem.db.session() as session, session.begin():
        esc = await escalations.open_escalation(
            session, patient_id, "risk", "urgent", detail, tandem.clock.now(), **kw
        )
        told = await escalations.alerted(session, esc)
    return esc, told


async def staff_rows(tandem: Tandem) -> list[OutboxItem]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(OutboxItem).where(OutboxItem.audience == "staff").order_by(OutboxItem.id)
        )
        return list(rows.scalars())


async def kinds(tandem: Tandem, kind: str) -> list[Event]:
    async with tandem.db.session() as session:
        rows = await session.execute(select(Event).where(Event.kind == kind).order_by(Event.id))
        return list(rows.scalars())


# --- who was told ---------------------------------------------------------------------------


async def test_an_available_coach_is_told_and_on_call_is_not(make: Callable[..., Tandem]) -> None:
    tandem = make(oncall_phone=ONCALL)
    await add_coach(tandem, "kim@example.org")
    patient_id = await sms_patient(tandem)
    esc, told = await open_urgent(tandem, patient_id)
    assert told == "coach" and escalations.who_was_told(esc) == "coach"
    assert await staff_rows(tandem) == []  # the console is how Kim hears; no phone set up
    assert await kinds(tandem, "oncall_notified") == []
    assert escalations.told_text("coach", "en") != escalations.told_text("nobody", "en")


async def test_no_coach_means_the_on_call_phone(make: Callable[..., Tandem]) -> None:
    tandem = make(oncall_phone=ONCALL)
    await add_coach(tandem, "away@example.org", available=False)
    patient_id = await sms_patient(tandem)
    _, told = await open_urgent(tandem, patient_id)
    assert told == "oncall"
    (row,) = await staff_rows(tandem)
    assert (row.address, row.channel, row.patient_id, row.message_id) == (ONCALL, "sms", None, None)
    # A normal escalation does not wake the on-call phone, and nobody is told of it.
    async with tandem.db.session() as session, session.begin():
        other = await escalations.open_escalation(
            session, patient_id, "human_request", "normal", "", tandem.clock.now()
        )
        assert await escalations.alerted(session, other) == "nobody"
    assert len(await staff_rows(tandem)) == 1


async def test_nobody_without_coaches_or_on_call(make: Callable[..., Tandem]) -> None:
    tandem = make()
    patient_id = await sms_patient(tandem)
    _, told = await open_urgent(tandem, patient_id)
    assert told == "nobody" and await staff_rows(tandem) == []


async def test_on_call_without_an_sms_channel_counts_as_nobody(
    make: Callable[..., Tandem],
) -> None:
    tandem = make(sms=False, oncall_phone=ONCALL)
    patient_id = (await say(tandem, "hi")).patient_id
    _, told = await open_urgent(tandem, patient_id)
    assert told == "nobody" and await staff_rows(tandem) == []
    (missed,) = await kinds(tandem, "oncall_not_notified")
    assert missed.data["reason"] == "no SMS channel"


async def test_an_away_coachs_escalation_goes_to_the_available_pool(
    make: Callable[..., Tandem],
) -> None:
    tandem = make(oncall_phone=ONCALL)
    away = await add_coach(tandem, "away@example.org", available=False)
    lee = await add_coach(
        tandem, "lee@example.org", notify_channel="sms", notify_address=COACH_PHONE
    )
    patient_id = await sms_patient(tandem)
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, patient_id)
        assert patient is not None
        patient.coach_id = away.id
    esc, told = await open_urgent(tandem, patient_id)
    assert told == "coach" and esc.coach_id is None
    (row,) = await staff_rows(tandem)
    assert row.address == COACH_PHONE
    (notified,) = await kinds(tandem, "coach_notified")
    assert notified.data["coach_id"] == lee.id and notified.data["outbox_id"] == row.id


async def test_urgent_sla_missed_with_no_backup_texts_on_call(
    make: Callable[..., Tandem], clock: FakeClock
) -> None:
    tandem = make(oncall_phone=ONCALL)
    await add_coach(tandem, "kim@example.org")  # told at once, but no backup or supervisor
    patient_id = await sms_patient(tandem)
    await open_urgent(tandem, patient_id)
    assert await staff_rows(tandem) == []
    clock.advance(timedelta(minutes=16))
    await tandem.coaching.tick()
    (row,) = await staff_rows(tandem)
    assert row.address == ONCALL
    (oncall,) = await kinds(tandem, "oncall_notified")
    assert oncall.data["why"] == "sla_missed"


# --- through the outbox to the fake Twilio API ------------------------------------------------


async def test_on_call_text_is_retried_and_carries_no_patient_words_or_number(
    make: Callable[..., Tandem], fake_twilio: FakeTwilio, clock: FakeClock
) -> None:
    tandem = make(oncall_phone=ONCALL, program_name="Brightside")
    patient_id = await sms_patient(tandem)
    sent_before = len(fake_twilio.messages)
    await open_urgent(tandem, patient_id, detail=f"suicidal ideation: '{WORDS}'")
    fake_twilio.script(tw.server_error())
    await tandem.dispatcher.drain()
    (row,) = await staff_rows(tandem)
    assert (row.status, row.attempts) == ("pending", 1)
    assert len(fake_twilio.messages) == sent_before
    clock.advance(timedelta(minutes=5))
    await tandem.dispatcher.drain()
    (text,) = [m for m in fake_twilio.messages if m["to"] == ONCALL]
    body = text["body"]
    assert "Brightside" in body and "urgent" in body and "risk" in body
    assert f"{PUBLIC_URL}/console/patients/{patient_id}" in body
    assert PATIENT not in body and PATIENT[2:] not in body
    assert "kill" not in body and "tonight" not in body
    (row,) = await staff_rows(tandem)
    assert row.status == "sent"
    assert len(await kinds(tandem, "staff_alert_sent")) == 1
    # A failed attempt of a staff alert is not the patient's message failing.
    assert [e.reason for e in await _escalations(tandem)] == ["risk"]


async def test_a_staff_phone_failing_for_good_is_recorded_not_escalated(
    make: Callable[..., Tandem], fake_twilio: FakeTwilio
) -> None:
    tandem = make(oncall_phone=ONCALL)
    patient_id = await sms_patient(tandem)
    await open_urgent(tandem, patient_id)
    fake_twilio.script(tw.unsubscribed_recipient())  # the on-call phone once replied STOP
    await tandem.dispatcher.drain()
    (row,) = await staff_rows(tandem)
    assert row.status == "failed" and "21610" in (row.last_error or "")
    (failed,) = await kinds(tandem, "staff_alert_failed")
    assert failed.data["outbox_id"] == row.id and failed.patient_id is None
    assert [e.reason for e in await _escalations(tandem)] == ["risk"]  # no "undeliverable"
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None and patient.status == "active"  # not the patient's STOP


async def test_coach_phone_alert_goes_through_the_outbox_with_retries(
    make: Callable[..., Tandem], fake_twilio: FakeTwilio, clock: FakeClock
) -> None:
    tandem = make()
    coach = await add_coach(
        tandem, "kim@example.org", notify_channel="sms", notify_address=COACH_PHONE
    )
    patient_id = await sms_patient(tandem)
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, patient_id)
        assert patient is not None
        patient.coach_id = coach.id
    await open_urgent(tandem, patient_id)
    fake_twilio.script(tw.rate_limited(30))
    await tandem.dispatcher.drain()
    (row,) = await staff_rows(tandem)
    assert row.status == "pending" and row.next_attempt_at >= clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(minutes=1))
    await tandem.dispatcher.drain()
    (text,) = [m for m in fake_twilio.messages if m["to"] == COACH_PHONE]
    assert "urgent escalation (risk)" in text["body"]
    assert f"/console/patients/{patient_id}" in text["body"]


async def test_staff_alerts_are_not_patient_messages_and_survive_opt_out(
    make: Callable[..., Tandem], fake_twilio: FakeTwilio
) -> None:
    tandem = make(oncall_phone=ONCALL)
    boss = await add_coach(tandem, "boss@example.org", role="supervisor", available=False)
    patient_id = await sms_patient(tandem)
    await say(tandem, WORDS, channel="sms", address=PATIENT, mid="SMrisk")
    await say(tandem, "STOP", channel="sms", address=PATIENT, mid="SMstop")
    (row,) = await staff_rows(tandem)
    await tandem.dispatcher.drain()
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None and patient.status == "opted_out"
        refreshed = await session.get(OutboxItem, row.id)
        assert refreshed is not None and refreshed.status == "sent"
        bodies = list((await session.execute(select(Message.body))).scalars())
        lines = await queries.transcript(session, patient_id)
    async with tandem.db.session() as session, session.begin():
        token = await accounts.issue_token(session, boss, tandem.clock.now())
    assert [m["to"] for m in fake_twilio.messages].count(ONCALL) == 1
    assert row.body not in bodies
    assert all(line.message.body != row.body for line in lines)
    async with TestClient(TestServer(create_app(tandem))) as client:
        response = await client.get(
            f"/api/v1/patients/{patient_id}/messages",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status == 200
        texts = [m["body"] for m in (await response.json())["messages"]]
    assert WORDS in texts and row.body not in texts
    assert all(ONCALL not in t for t in texts)


# --- safeguarding ----------------------------------------------------------------------------


async def test_safeguarding_marks_new_and_folded_escalations(make: Callable[..., Tandem]) -> None:
    tandem = make()
    await add_coach(tandem, "kim@example.org")
    patient_id = await sms_patient(tandem)
    first, _ = await open_urgent(tandem, patient_id, detail="self-harm: 'cut'")
    assert not first.safeguarding
    folded, told = await open_urgent(
        tandem, patient_id, detail="abuse of a minor: 'he touches me'", safeguarding=True
    )
    assert folded.id == first.id and folded.safeguarding and told == "coach"
    assert folded.detail == "self-harm: 'cut'; abuse of a minor: 'he touches me'"
    again, _ = await open_urgent(tandem, patient_id, detail="self-harm: 'cut'")
    assert again.safeguarding and again.detail == folded.detail  # kept; no duplicate evidence
    # Newly marked safeguarding tells the coach again; a plain repeat does not.
    assert [e.data["why"] for e in await kinds(tandem, "coach_notified")] == [
        "escalation_opened",
        "escalation_opened",
    ]
    other = (await say(tandem, "hi", channel="sms", address="+14155550188", mid="SMo")).patient_id
    fresh, _ = await open_urgent(tandem, other, safeguarding=True)
    assert fresh.safeguarding and fresh.id != first.id


async def _escalations(tandem: Tandem) -> list[Escalation]:
    async with tandem.db.session() as session:
        return list((await session.execute(select(Escalation).order_by(Escalation.id))).scalars())
