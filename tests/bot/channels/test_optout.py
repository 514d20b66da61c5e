"""STOP/START/HELP, who confirms, invite-only enrolment, and the dispatcher honouring opt-outs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.optout import create_invites, keyword
from bot.service import Tandem
from bot.settings import Settings
from storage.models import OptOut, OutboxItem
from tests.bot.channels.conftest import outbox, patients
from tests.fakes.twilio import FakeTwilio
from tests.helpers import last_id, outbound, say

PHONE = "+15551230001"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", "STOP"),
        ("  stop. ", "STOP"),
        ("Unsubscribe!", "UNSUBSCRIBE"),
        ("/stop", "STOP"),
        ("/start ABC123", "START"),
        ("/help@tandem_bot", "HELP"),
        ("please stop", None),
        ("stop it now", None),
        ("12", None),
    ],
)
def test_keyword_parsing(text: str, expected: str | None) -> None:
    assert keyword(text)[0] == expected


async def sms(service: Tandem, text: str, n: list[int] = [0]) -> str:  # noqa: B006
    n[0] += 1
    receipt = await say(service, text, channel="sms", address=PHONE, mid=f"SM{n[0]:06d}x")
    return receipt.patient_id


@pytest.mark.parametrize("word", ["STOP", "stopall", "Unsubscribe", "cancel", "END", "quit",
                                  "REVOKE", "optout"])  # fmt: skip
async def test_stop_words_opt_out_and_twilio_confirms_by_default(
    service: Tandem, word: str
) -> None:
    patient_id = await sms(service, "hi")
    before = await last_id(service)
    await sms(service, word)
    (patient,) = await patients(service)
    assert patient.status == "opted_out"
    assert await outbound(service, patient_id, after=before) == []  # Twilio sends the text


async def test_while_opted_out_messages_are_stored_but_not_answered(service: Tandem) -> None:
    patient_id = await sms(service, "hi")
    await sms(service, "STOP")
    before = await last_id(service)
    await sms(service, "Sam")
    assert await outbound(service, patient_id, after=before) == []


async def test_queued_rows_are_cancelled_visibly_after_stop(
    service: Tandem, fake_twilio: FakeTwilio
) -> None:
    await sms(service, "hi")  # onboarding replies queued, not yet sent
    await sms(service, "STOP")
    await service.dispatcher.drain()
    rows = await outbox(service)
    assert rows and {r.status for r in rows} == {"cancelled"}
    assert all(r.last_error == "patient opted out" for r in rows)
    assert fake_twilio.messages == []


async def test_start_and_yes_opt_back_in_and_resume_where_they_were(service: Tandem) -> None:
    patient_id = await sms(service, "hi")
    await sms(service, "yes")  # consent; onboarding now asks for a name
    await sms(service, "STOP")
    await sms(service, "YES")  # while opted out, YES means opt in, not an answer
    (patient,) = await patients(service)
    assert patient.status == "active"
    before = await last_id(service)
    await sms(service, "Sam")
    assert await outbound(service, patient_id, after=before)
    await sms(service, "9am")
    (patient,) = await patients(service)
    # The conversation went on from the name question: no onboarding restart.
    assert (patient.display_name, patient.checkin_time) == ("Sam", "09:00")
    async with service.db.session() as session:
        actions = (await session.execute(select(OptOut.action).order_by(OptOut.id))).all()
    assert [a for (a,) in actions] == ["out", "in"]


async def test_yes_is_the_consent_answer_when_not_opted_out(service: Tandem) -> None:
    await sms(service, "hi")
    await sms(service, "YES")
    (patient,) = await patients(service)
    assert patient.consent_given is True and patient.status == "active"


async def test_help_is_left_to_twilio_by_default(service: Tandem) -> None:
    patient_id = await sms(service, "hi")
    before = await last_id(service)
    await sms(service, "HELP")
    assert await outbound(service, patient_id, after=before) == []


@pytest.fixture
async def tandem_replies(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> AsyncIterator[Tandem]:
    service = Tandem(
        make_settings(
            twilio_opt_out_replies="tandem", program_name="Mood Steps", support_contact="555-0100"
        ),
        clock=clock,
    )
    yield service
    await service.close()


async def test_tandem_sends_confirmations_when_configured(
    tandem_replies: Tandem, fake_twilio: FakeTwilio
) -> None:
    service = tandem_replies
    patient_id = await sms(service, "hi")
    before = await last_id(service)
    await sms(service, "info")
    (help_text,) = await outbound(service, patient_id, after=before)
    assert "Mood Steps" in help_text and "555-0100" in help_text
    before = await last_id(service)
    await sms(service, "STOP")
    (confirmation,) = await outbound(service, patient_id, after=before)
    assert "unsubscribed" in confirmation
    await service.dispatcher.drain()
    rows = await outbox(service)
    # The confirmation goes out; the onboarding backlog is cancelled.
    assert [r.status for r in rows if r.body == confirmation] == ["sent"]
    assert fake_twilio.messages[-1]["body"] == confirmation
    assert {r.status for r in rows if r.priority == 0 and r.body != help_text} == {"cancelled"}


async def test_urgent_rows_still_go_to_an_opted_out_patient(
    service: Tandem, fake_twilio: FakeTwilio
) -> None:
    patient_id = await sms(service, "hi")
    await sms(service, "STOP")
    async with service.db.session() as session, session.begin():
        from storage import repo

        await repo.enqueue(
            session, patient_id, "sms", PHONE, "crisis line: 988", service.clock.now(), priority=10
        )
    await service.dispatcher.drain()
    assert [m["body"] for m in fake_twilio.messages] == ["crisis line: 988"]


async def test_invite_only_enrolment(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    service = Tandem(make_settings(enrolment="invite"), clock=clock)
    try:
        (code,) = await create_invites(service.db, clock.now(), 1, "cohort A")
        patient_id = await sms(service, "hello")
        (reply,) = await outbound(service, patient_id)
        assert "invitation" in reply
        before = await last_id(service)
        await sms(service, code.lower())
        replies = await outbound(service, patient_id, after=before)
        assert replies[-1].startswith("Would you like to join?")
        # The code is used up: someone else cannot enrol with it.
        other = await say(service, code, channel="sms", address="+15559990000", mid="SMother")
        assert "invitation" in (await outbound(service, other.patient_id))[0]
    finally:
        await service.close()


async def test_telegram_start_payload_is_the_invite_code(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    service = Tandem(make_settings(enrolment="invite"), clock=clock)
    try:
        (code,) = await create_invites(service.db, clock.now(), 1, None)
        receipt = await say(service, f"/start {code}", channel="telegram", address="77", mid="u1")
        assert (await outbound(service, receipt.patient_id))[-1].startswith("Would you like")
    finally:
        await service.close()


async def test_scheduled_backlog_for_opted_out_patient_never_sends(
    service: Tandem, fake_twilio: FakeTwilio, clock: FakeClock
) -> None:
    await sms(service, "hi")
    await sms(service, "STOP")
    clock.advance(timedelta(days=2))
    await service.sweep()
    await service.dispatcher.drain()
    assert fake_twilio.messages == []
    async with service.db.session() as session:
        statuses = set((await session.execute(select(OutboxItem.status))).scalars())
    assert statuses <= {"cancelled"}
