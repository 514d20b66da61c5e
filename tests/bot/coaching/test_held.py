"""After a disclosure: the bot never leaves the patient in silence while it holds for a coach,
and says nothing of its own while a coach has the conversation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import FakeClock
from bot.service import Tandem
from storage.models import Escalation, Event, Patient
from tests.bot.coaching.test_crisis import QUESTION_EN, RESOURCES_US, onboard
from tests.bot.coaching.test_takeover_sla import add_coach, assign
from tests.helpers import last_id, outbound, say


async def kinds(tandem: Tandem, patient_id: str) -> list[str]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Event.kind).where(Event.patient_id == patient_id).order_by(Event.id)
        )
        return list(rows.scalars())


async def test_a_reply_to_the_coach_is_not_an_answer_to_the_safety_check(tandem: Tandem) -> None:
    coach = await add_coach(tandem, "kim@example.org")
    patient_id = await onboard(tandem)
    await assign(tandem, patient_id, coach)
    await say(tandem, "i want to kill myself")
    await tandem.coaching.take_over(patient_id, coach)
    await tandem.coaching.coach_message(patient_id, coach, "Are you somewhere safe?")
    before = await last_id(tandem)
    await say(tandem, "yes")
    await say(tandem, "ok")
    assert await outbound(tandem, patient_id, after=before) == []  # the bot stays out of it
    events = await kinds(tandem, patient_id)
    assert "safety_check_cancelled" in events and "safety_check_answered" not in events
    async with tandem.db.session() as session:
        (esc,) = (await session.execute(select(Escalation))).scalars()
        assert esc.screening is not None and esc.screening["outcome"] == "interrupted"
    # A new disclosure during the takeover: the help lines, and no question.
    before = await last_id(tandem)
    await say(tandem, "i'm going to end it tonight")
    sent = await outbound(tandem, patient_id, after=before)
    assert len(sent) == 1 and RESOURCES_US in sent[0]
    # After hand-back the bot answers again; the old check is not resumed.
    await tandem.coaching.release(patient_id, coach, outcome="safe with family")
    before = await last_id(tandem)
    await say(tandem, "5")
    assert QUESTION_EN not in await outbound(tandem, patient_id, after=before)


async def test_every_answer_is_logged_and_left_on_the_escalation(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    await say(tandem, "i want to die")
    for reply in ["yes", "sometimes", "no", "no", "no"]:
        await say(tandem, reply)
    async with tandem.db.session() as session:
        answered = (
            await session.execute(
                select(Event.data).where(Event.kind == "safety_check_answered").order_by(Event.id)
            )
        ).scalars()
        logged = [(d["step"], d["yes"], d["answer"]) for d in answered]
        (esc,) = (await session.execute(select(Escalation))).scalars()
        patient = await session.get(Patient, patient_id)
    assert logged == [
        ("safe_now", True, "yes"),
        ("thoughts", True, "sometimes"),
        ("plan", False, "no"),
        ("intent", False, "no"),
        ("prepared", False, "no"),
    ]
    assert esc.screening is not None and esc.screening["outcome"] == "moderate"
    assert [a["step"] for a in esc.screening["answers"]] == [s for s, _, _ in logged]
    assert (
        patient is not None and patient.bot_paused and not (patient.safety_state or {}).get("check")
    )


async def test_held_patient_gets_one_acknowledgement_per_quarter_hour(
    tandem: Tandem, clock: FakeClock
) -> None:
    patient_id = await onboard(tandem)
    await say(tandem, "i want to die")
    await say(tandem, "no")  # not safe: the check ends, the bot holds for a coach
    before = await last_id(tandem)
    await say(tandem, "hello?")
    await say(tandem, "still here")
    sent = await outbound(tandem, patient_id, after=before)
    # No coach account exists: the acknowledgement says so and gives the lines instead.
    assert len(sent) == 1 and "could not reach anyone" in sent[0] and RESOURCES_US in sent[0]
    clock.advance(timedelta(minutes=15))
    before = await last_id(tandem)
    await say(tandem, "1")
    assert len(await outbound(tandem, patient_id, after=before)) == 1


async def test_grounding_and_breathing_stay_reachable_while_held(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    await say(tandem, "i want to die")
    await say(tandem, "no")
    before = await last_id(tandem)
    await say(tandem, "calm")
    sent = await outbound(tandem, patient_id, after=before)
    assert sent[0].startswith("Let's try a grounding exercise")
    before = await last_id(tandem)
    await say(tandem, "7")  # the exercise's own question is answered, not acknowledged
    sent = await outbound(tandem, patient_id, after=before)
    assert sent and not sent[0].startswith("Thanks for your message")
    before = await last_id(tandem)
    await say(tandem, "breathe")
    sent = await outbound(tandem, patient_id, after=before)
    assert sent and "breath" in sent[0].lower()


async def test_a_check_left_unanswered_goes_to_the_coach_not_silence(
    tandem: Tandem, clock: FakeClock
) -> None:
    patient_id = await onboard(tandem)
    await say(tandem, "i'm not suicidal, just so tired of everything")  # a concern
    await say(tandem, "yes")  # safe right now; then silence on "thoughts of killing yourself?"
    async with tandem.db.session() as session:
        (esc,) = (await session.execute(select(Escalation))).scalars()
        assert esc.priority == "high"
    clock.advance(timedelta(minutes=29))
    await tandem.coaching.tick()
    before = await last_id(tandem)
    clock.advance(timedelta(minutes=2))
    await tandem.coaching.tick()
    (sent,) = await outbound(tandem, patient_id, after=before)
    assert sent.startswith("I haven't heard back from you") and RESOURCES_US in sent
    async with tandem.db.session() as session:
        (esc,) = (await session.execute(select(Escalation))).scalars()
        patient = await session.get(Patient, patient_id)
        assert esc.priority == "urgent" and esc.screening is not None
        assert esc.screening["outcome"] == "unanswered"
        assert patient is not None and patient.bot_paused and patient.safety_check_due is None
    await tandem.coaching.tick()  # once only
    assert len(await outbound(tandem, patient_id, after=before)) == 1


async def test_the_coach_sees_the_answers_in_the_api(tandem: Tandem) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import create_app
    from bot.coaching import accounts

    patient_id = await onboard(tandem)
    await say(tandem, "i want to kill myself")
    for reply in ["yes", "yes", "no", "no", "ok", "ok"]:
        await say(tandem, reply)
    async with tandem.db.session() as session, session.begin():
        coach = await accounts.create_coach(
            session, "sup@example.org", "Sup", "supervisor", tandem.clock.now()
        )
        token = await accounts.issue_token(session, coach, tandem.clock.now())
    async with TestClient(TestServer(create_app(tandem))) as client:
        resp = await client.get("/api/v1/escalations", headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 200
        (esc,) = (await resp.json())["escalations"]
    assert esc["patient_id"] == patient_id
    assert esc["screening"]["outcome"] == "high"  # "ok" twice to "prepared": counted as yes
    assert [(a["step"], a["yes"], a["interpreted"]) for a in esc["screening"]["answers"]] == [
        ("safe_now", True, False),
        ("thoughts", True, False),
        ("plan", False, False),
        ("intent", False, False),
        ("prepared", True, True),
    ]


async def test_a_child_abuse_disclosure_in_a_takeover_marks_the_escalation(tandem: Tandem) -> None:
    coach = await add_coach(tandem, "kim@example.org")
    patient_id = await onboard(tandem)
    await assign(tandem, patient_id, coach)
    await say(tandem, "i want to die")
    await tandem.coaching.take_over(patient_id, coach)
    before = await last_id(tandem)
    await say(tandem, "im 12 and my stepdad touches me at night and says not to tell")
    sent = await outbound(tandem, patient_id, after=before)
    assert len(sent) == 1 and RESOURCES_US in sent[0]  # the lines, no question
    async with tandem.db.session() as session:
        (esc,) = (await session.execute(select(Escalation))).scalars()
    assert esc.safeguarding and "abuse_child" in esc.detail
