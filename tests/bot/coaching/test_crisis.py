"""End to end: a risk message gets the crisis response in the same request cycle, whatever state
the patient is in and whatever else fails."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import select

from bot.actions import Turn
from bot.chain import Result, Stage
from bot.service import Tandem
from storage.models import Escalation, Event, Message, OutboxItem, Patient, SafetyPlan
from tests.helpers import last_id, outbound, say

RESOURCES_US = "988"
QUESTION_EN = "Are you safe right now? Reply YES or NO."


async def onboard(tandem: Tandem, address: str = "alice") -> str:
    for text in ["hi", "yes", "Sam", "8pm"]:
        receipt = await say(tandem, text, address=address)
    return receipt.patient_id


async def escalations_of(tandem: Tandem, patient_id: str) -> list[Escalation]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Escalation).where(Escalation.patient_id == patient_id).order_by(Escalation.id)
        )
        return list(rows.scalars())


async def urgent_bodies(tandem: Tandem, patient_id: str, after: int) -> list[str]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(OutboxItem.body)
            .where(
                OutboxItem.patient_id == patient_id,
                OutboxItem.priority >= 10,
                OutboxItem.message_id > after,
            )
            .order_by(OutboxItem.id)
        )
        return list(rows.scalars())


async def paused(tandem: Tandem, patient_id: str) -> bool:
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None
        return patient.bot_paused


async def test_risk_mid_checkin_sends_resources_first_pauses_and_escalates(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    before = await last_id(tandem)
    await say(tandem, "i want to kill myself")
    sent = await outbound(tandem, patient_id, after=before)
    assert RESOURCES_US in sent[0] and sent[1] == QUESTION_EN
    assert len(sent) == 2  # no flow reply: the check-in does not carry on as if nothing happened
    assert await urgent_bodies(tandem, patient_id, before) == sent
    (esc,) = await escalations_of(tandem, patient_id)
    assert (esc.reason, esc.priority, esc.status) == ("risk", "urgent", "open")
    assert (esc.due_at - esc.created_at).total_seconds() == 15 * 60
    assert await paused(tandem, patient_id)
    # The next message is not the flow's: an unclear answer to the safety check is asked again,
    # and a second risk message counts as "not safe" and folds into the same escalation.
    before = await last_id(tandem)
    await say(tandem, "what now")
    assert await outbound(tandem, patient_id, after=before) == [
        f"I need a clear YES or NO to know how to help. {QUESTION_EN}"
    ]
    before = await last_id(tandem)
    await say(tandem, "kms")
    (danger,) = await outbound(tandem, patient_id, after=before)
    # The emergency number first, then who was told, then the help lines.
    assert danger.startswith("If you are in immediate danger, call 911 now.")
    assert RESOURCES_US in danger
    (esc,) = await escalations_of(tandem, patient_id)
    assert esc.repeats >= 1 and esc.screening is not None
    assert esc.screening["outcome"] == "in_danger"


async def test_resources_jump_ahead_of_queued_messages(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    async with tandem.db.session() as session:
        pending = (
            await session.execute(select(OutboxItem).where(OutboxItem.status == "pending"))
        ).scalars()
        assert list(pending)  # the onboarding texts are still queued
    await say(tandem, "I wanna die")
    async with tandem.db.session() as session:
        first = (
            await session.execute(
                select(OutboxItem)
                .where(OutboxItem.patient_id == patient_id, OutboxItem.status == "pending")
                .order_by(OutboxItem.priority.desc(), OutboxItem.id)
                .limit(1)
            )
        ).scalar_one()
    assert RESOURCES_US in first.body
    await tandem.dispatcher.dispatch_once()  # one row per patient per round: the crisis reply
    async with tandem.db.session() as session:
        sent = (
            await session.execute(select(OutboxItem.body).where(OutboxItem.status == "sent"))
        ).scalars()
        assert [RESOURCES_US in body for body in sent] == [True]


async def test_resources_go_out_when_the_engine_and_later_interceptors_raise(
    tandem: Tandem,
) -> None:
    async def broken(turn: Turn, message: Message) -> Result:
        raise RuntimeError("later part is down")

    tandem.pipeline.chain.add(Stage.OPT_OUT, broken)
    receipt = await say(tandem, "I am going to end my life tonight")
    sent = await outbound(tandem, receipt.patient_id)
    assert RESOURCES_US in sent[0] and sent[1] == QUESTION_EN
    (esc,) = await escalations_of(tandem, receipt.patient_id)
    assert esc.priority == "urgent"
    async with tandem.db.session() as session:
        message = (
            await session.execute(select(Message).where(Message.direction == "in"))
        ).scalar_one()
        assert message.status == "failed"  # the failure is recorded, the crisis reply kept


async def test_resources_go_out_when_the_flow_step_raises(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)

    async def explode(*args: object, **kwargs: object) -> NoReturn:
        raise RuntimeError("engine down")

    tandem.pipeline.advance = explode  # type: ignore[method-assign]  # a failing engine
    before = await last_id(tandem)
    await say(tandem, "i want to hurt myself")
    sent = await outbound(tandem, patient_id, after=before)
    assert RESOURCES_US in sent[0]
    assert len(await escalations_of(tandem, patient_id)) == 1


async def test_risk_during_onboarding(tandem: Tandem) -> None:
    receipt = await say(tandem, "hi")
    before = await last_id(tandem)
    await say(tandem, "quiero morirme")
    sent = await outbound(tandem, receipt.patient_id, after=before)
    assert RESOURCES_US in sent[0] and len(sent) == 2
    assert await paused(tandem, receipt.patient_id)


async def test_spanish_patient_gets_spanish_resources_for_where_they_are(tandem: Tandem) -> None:
    receipt = await say(tandem, "hola")
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, receipt.patient_id)
        assert patient is not None
        patient.locale = "es"
    before = await last_id(tandem)
    await say(tandem, "me quiero matar")
    sent = await outbound(tandem, receipt.patient_id, after=before)
    # No phone number and no stated country: the deployment default (US), never Spain by language.
    assert "988" in sent[0] and "Usted importa" in sent[0] and sent[1].startswith("¿Está a salvo")
    assert "024" not in sent[0]


async def test_opted_out_patient_still_gets_resources(tandem: Tandem) -> None:
    receipt = await say(tandem, "hi")
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, receipt.patient_id)
        assert patient is not None
        patient.status = "opted_out"

    async def swallow_opted_out(turn: Turn, message: Message) -> Result:
        opted_out = turn.patient.status == "opted_out"  # what the opt-out layer does
        return Result.HANDLED if opted_out else Result.CONTINUE

    tandem.pipeline.chain.add(Stage.OPT_OUT, swallow_opted_out)
    before = await last_id(tandem)
    await say(tandem, "i want to die")
    assert await urgent_bodies(tandem, receipt.patient_id, before) == [
        *await outbound(tandem, receipt.patient_id, after=before)
    ]
    assert RESOURCES_US in (await outbound(tandem, receipt.patient_id, after=before))[0]


async def test_uk_number_gets_uk_resources_and_the_safety_plan(tandem: Tandem) -> None:
    receipt = await say(tandem, "hi", address="+447911123456")
    async with tandem.db.session() as session, session.begin():
        session.add(
            SafetyPlan(
                patient_id=receipt.patient_id,
                sections={"coping": "walk the dog", "people": "my sister Ana"},
                created_at=tandem.clock.now(),
                updated_at=tandem.clock.now(),
            )
        )
    before = await last_id(tandem)
    await say(tandem, "I want to end it all", address="+447911123456")
    sent = await outbound(tandem, receipt.patient_id, after=before)
    assert "116 123" in sent[0] and sent[1] == QUESTION_EN
    # SOS in the middle of the check: help lines and the plan, then the question stands.
    before = await last_id(tandem)
    await say(tandem, "SOS", address="+447911123456")
    sent = await outbound(tandem, receipt.patient_id, after=before)
    assert "116 123" in sent[0]
    assert sent[1].startswith("Your safety plan:") and "my sister Ana" in sent[1]
    assert sent[2] == QUESTION_EN


async def test_negated_risk_asks_and_opens_high_escalation(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    before = await last_id(tandem)
    await say(tandem, "i'm not going to kill myself, just tired")
    sent = await outbound(tandem, patient_id, after=before)
    # A concern gets the help lines too (they go out unconditionally), then a gentle check.
    assert RESOURCES_US in sent[0]
    assert sent[1:] == [f"I want to make sure you're okay. A few quick questions. {QUESTION_EN}"]
    (esc,) = await escalations_of(tandem, patient_id)
    assert esc.priority == "high" and not await paused(tandem, patient_id)
    for answer in ["yes", "no"]:
        await say(tandem, answer)
    before = await last_id(tandem)
    await say(tandem, "no")
    sent = await outbound(tandem, patient_id, after=before)
    # Nobody has a coach account here: the patient is not told a coach knows.
    assert sent[0].startswith("Thank you for answering. I could not reach anyone")
    assert RESOURCES_US in sent[0]
    # Afterwards the check-in goes on as usual.
    before = await last_id(tandem)
    await say(tandem, "5")
    assert await outbound(tandem, patient_id, after=before)


async def test_unsafe_answer_escalates_to_urgent(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    await say(tandem, "i dont want to kill myself")
    before = await last_id(tandem)
    await say(tandem, "no")
    sent = await outbound(tandem, patient_id, after=before)
    # Not safe right now: the emergency number comes first.
    assert sent[0].startswith("If you are in immediate danger, call 911 now.")
    assert RESOURCES_US in sent[0]
    (esc,) = await escalations_of(tandem, patient_id)
    assert esc.priority == "urgent" and await paused(tandem, patient_id)


async def test_asking_for_a_person_opens_a_normal_escalation(tandem: Tandem) -> None:
    patient_id = await onboard(tandem)
    before = await last_id(tandem)
    await say(tandem, "can I talk to a real person")
    sent = await outbound(tandem, patient_id, after=before)
    assert sent[0].startswith("Thanks for asking") and len(sent) == 1
    (esc,) = await escalations_of(tandem, patient_id)
    assert (esc.reason, esc.priority) == ("human_request", "normal")
    async with tandem.db.session() as session:
        kinds = list((await session.execute(select(Event.kind))).scalars())
    assert "escalation_opened" in kinds and "coach_notified" not in kinds  # nobody to notify yet


async def test_phq9_item9_keeps_its_crisis_response_when_the_rest_of_the_step_fails(
    tandem: Tandem,
) -> None:
    from flows import model as m

    patient_id = await onboard(tandem)
    await tandem.pipeline.start_flow(patient_id, "measure_phq9")
    for _ in range(8):
        await say(tandem, "0")

    async def broken(turn: Turn, action: m.RecordMeasure) -> None:
        raise RuntimeError("measure store down")

    tandem.pipeline.handlers.register(m.RecordMeasure, broken)
    before = await last_id(tandem)
    receipt = await say(tandem, "2")  # item 9: thoughts of being better off dead, more than half
    async with tandem.db.session() as session:
        message = await session.get(Message, receipt.message_id)
        assert message is not None and message.status == "failed"
    sent = await urgent_bodies(tandem, patient_id, before)
    assert any(RESOURCES_US in body for body in sent)
    assert QUESTION_EN in sent
    assert [e.reason for e in await escalations_of(tandem, patient_id)] == ["risk"]
