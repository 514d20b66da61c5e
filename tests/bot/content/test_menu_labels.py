"""Menu labels typed at any time, the WORRY shortcut leaving them alone, and idle patients."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.facts import load_facts, set_facts
from bot.menu import label_key
from bot.service import Tandem
from storage import repo
from storage.models import Event, FlowRun, Patient
from tests.helpers import last_id, outbound, say


async def _consented(tandem: Tandem, program: str | None = "anxiety") -> str:
    receipt = await say(tandem, "hi")
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, receipt.patient_id)
        assert patient is not None
        patient.consent_given, patient.display_name = True, "Sam"
        await set_facts(session, patient.id, {"program": program}, tandem.clock.now())
        # Onboarding is over: nothing waits for an answer.
        await session.execute(
            update(FlowRun)
            .where(FlowRun.patient_id == patient.id)
            .values(status="ended", outcome="completed")
        )
    return receipt.patient_id


async def _flow(tandem: Tandem, patient_id: str) -> str | None:
    async with tandem.db.session() as session:
        run = await repo.active_run(session, patient_id)
    return None if run is None else run.flow_id


def test_label_key_ignores_case_spaces_and_punctuation() -> None:
    assert label_key("Worry questions (GAD-7)") == label_key("worry questions gad7")
    assert label_key("WORRY TIME!") == label_key("Worry time")
    assert label_key("Respiración para calmarse") == label_key("respiracion para calmarse")


@pytest.mark.parametrize(
    ("typed", "flow_id"),
    [
        ("Worry time", "anx_worry"),
        ("worry time.", "anx_worry"),
        ("Worry questions (GAD-7)", "measure_gad7"),
        ("worry questions gad7", "measure_gad7"),
        ("CALM BREATHING", "anx_breathing"),
        ("Facing fears step by step", "anx_exposure"),
    ],
)
async def test_typing_a_label_starts_that_entry_even_mid_flow(
    tandem: Tandem, typed: str, flow_id: str
) -> None:
    patient_id = await _consented(tandem)
    await tandem.pipeline.start_flow(patient_id, "checkin")
    await say(tandem, typed)
    assert await _flow(tandem, patient_id) == flow_id
    async with tandem.db.session() as session:
        facts = await load_facts(session, patient_id)
        logged = await session.scalar(
            select(Event.data).where(
                Event.patient_id == patient_id, Event.kind == "menu_label_typed"
            )
        )
    assert not facts.get("anx_worries")  # the WORRY shortcut did not take it as a worry
    assert logged == {"flow": flow_id}


async def test_a_worry_that_is_not_a_label_is_still_saved(tandem: Tandem) -> None:
    patient_id = await _consented(tandem)
    await say(tandem, "worry the rent is due")
    async with tandem.db.session() as session:
        assert (await load_facts(session, patient_id))["anx_worries"] == ["the rent is due"]


async def test_a_label_the_waiting_question_offers_goes_to_the_question(tandem: Tandem) -> None:
    patient_id = await _consented(tandem)
    await tandem.pipeline.start_flow(patient_id, "anx_breathing")
    await say(tandem, "5")  # distress before; now the technique choice waits
    before = await last_id(tandem)
    await say(tandem, "4-7-8")  # an option here, not a menu label
    sent = await outbound(tandem, patient_id, after=before)
    assert sent[0].startswith("4-7-8: breathe in")


async def test_spanish_labels_work_for_spanish_patients(tandem: Tandem) -> None:
    patient_id = await _consented(tandem)
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, patient_id)
        assert patient is not None
        patient.locale = "es"
    await say(tandem, "respiracion para calmarse")
    assert await _flow(tandem, patient_id) == "anx_breathing"


async def test_an_idle_patient_gets_a_short_menu_not_a_check_in(tandem: Tandem) -> None:
    patient_id = await _consented(tandem)
    assert await _flow(tandem, patient_id) is None
    before = await last_id(tandem)
    await say(tandem, "hello?")
    [reply] = await outbound(tandem, patient_id, after=before)
    lines = reply.splitlines()
    assert lines[0].startswith("Hi! Nothing needs an answer right now")
    assert "1 Calm breathing" in lines
    assert not any("BACK" in line for line in lines)  # nothing to go back to
    assert await _flow(tandem, patient_id) is None  # no check-in was started
    await say(tandem, "1")
    assert await _flow(tandem, patient_id) == "anx_breathing"


async def test_an_unconsented_stranger_still_gets_onboarding(tandem: Tandem) -> None:
    receipt = await say(tandem, "hello", address="bob")
    assert await _flow(tandem, receipt.patient_id) == "onboarding"


async def test_the_baseline_comes_back_after_a_menu_exercise(tandem: Tandem) -> None:
    receipt = await say(tandem, "hi", address="carol")
    patient_id = receipt.patient_id
    for text in ["yes", "Carol", "9am"]:
        await say(tandem, text, address="carol")
    assert await _flow(tandem, patient_id) == "program"  # the PHQ-2 baseline waits
    first_item = (await outbound(tandem, patient_id))[-1]
    await say(tandem, "menu", address="carol")
    await say(tandem, "Calm breathing", address="carol")
    assert await _flow(tandem, patient_id) == "anx_breathing"
    for text in ["6", "slow"]:
        await say(tandem, text, address="carol")
    before = await last_id(tandem)
    for text in ["done", "3"]:  # the guide, then distress after: the exercise ends
        await say(tandem, text, address="carol")
    sent = await outbound(tandem, patient_id, after=before)
    assert sent[-1] == "Thanks. Now, back to getting you set up:\n" + first_item
    assert await _flow(tandem, patient_id) == "program"
    await say(tandem, "0", address="carol")  # answers the PHQ-2 item that was waiting
    async with tandem.db.session() as session:
        run = await repo.active_run(session, patient_id)
        resumed = await session.scalar(
            select(Event.data).where(Event.patient_id == patient_id, Event.kind == "menu_resumed")
        )
    assert run is not None and run.flow_id == "program" and run.variables["phq2_item"] == 1
    assert resumed == {"flow": "program"}
