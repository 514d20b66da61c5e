"""Menu interceptor, program facts and measure totals through the real pipeline and database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.facts import load_facts
from bot.service import Tandem
from storage import repo
from storage.models import Event, FlowRun, Patient
from tests.helpers import last_id, outbound, say


async def _enrolled(tandem: Tandem, program: str | None = "ba") -> str:
    """A consented patient (program fact set) with a check-in waiting."""
    receipt = await say(tandem, "hi")
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, receipt.patient_id)
        assert patient is not None
        patient.consent_given, patient.display_name = True, "Sam"
        if program:
            from bot.facts import set_facts

            await set_facts(session, patient.id, {"program": program}, tandem.clock.now())
    await tandem.pipeline.start_flow(receipt.patient_id, "checkin")
    return receipt.patient_id


async def _run(tandem: Tandem, patient_id: str) -> FlowRun | None:
    async with tandem.db.session() as session:
        return await repo.active_run(session, patient_id)


async def _events(tandem: Tandem, patient_id: str, kind: str) -> list[dict[str, Any]]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Event.data).where(Event.patient_id == patient_id, Event.kind == kind)
        )
        return list(rows.scalars())


async def test_menu_lists_the_programs_entries_and_starts_the_choice(tandem: Tandem) -> None:
    patient_id = await _enrolled(tandem, "ba")
    before = await last_id(tandem)
    await say(tandem, "Menu")
    [menu] = await outbound(tandem, patient_id, after=before)
    lines = menu.splitlines()
    assert lines[0].startswith("Here's what you can do now")
    assert lines[1] == "1 Plan an activity"
    assert "Worry and stress skills" not in menu  # BA patients see BA and tools only
    assert any("Change my program" in line for line in lines)
    run = await _run(tandem, patient_id)
    assert run is not None and run.flow_id == "checkin"  # the check-in still waits
    before = await last_id(tandem)
    await say(tandem, "1")
    run = await _run(tandem, patient_id)
    # No activity list yet: ba_plan runs ba_values first (the run row shows the innermost flow).
    assert run is not None and run.flow_id == "ba_values"
    sent = await outbound(tandem, patient_id, after=before)
    assert sent[0] == "First, let's add an activity to your list."
    async with tandem.db.session() as session:
        ended = await session.scalar(
            select(FlowRun.outcome).where(
                FlowRun.patient_id == patient_id, FlowRun.flow_id == "checkin"
            )
        )
    assert ended == "interrupted"
    assert await _events(tandem, patient_id, "menu_chosen") == [{"flow": "ba_plan"}]


async def test_back_repeats_the_waiting_question(tandem: Tandem) -> None:
    patient_id = await _enrolled(tandem, "anxiety")
    await say(tandem, "menú")
    before = await last_id(tandem)
    await say(tandem, "back")
    [reply] = await outbound(tandem, patient_id, after=before)
    assert reply.startswith("OK, let's carry on.\nHi Sam! How is your mood")
    before = await last_id(tandem)
    await say(tandem, "6")  # the menu is closed: this answers the check-in
    sent = await outbound(tandem, patient_id, after=before)
    assert sent and sent[0].startswith("Thanks. Anything you'd like to add")


async def test_other_replies_pass_through_and_close_the_menu(tandem: Tandem) -> None:
    patient_id = await _enrolled(tandem, None)
    await say(tandem, "menu")
    before = await last_id(tandem)
    await say(tandem, "not sure")  # not an entry: the waiting check-in gets it (and re-asks)
    sent = await outbound(tandem, patient_id, after=before)
    assert sent == ["Please reply with a number from 0 (very low) to 10 (very good)."]
    await say(tandem, "1")  # the menu was open for one reply only: this is the mood
    run = await _run(tandem, patient_id)
    assert run is not None and run.flow_id == "checkin" and run.state == "ask_note"


async def test_no_menu_before_consent(tandem: Tandem) -> None:
    receipt = await say(tandem, "hi")
    before = await last_id(tandem)
    await say(tandem, "menu")
    sent = await outbound(tandem, receipt.patient_id, after=before)
    assert sent == ["Sorry, I didn't catch that. Please reply YES or NO."] or all(
        "what you can do" not in s for s in sent
    )


async def test_program_choice_and_measures_become_facts(tandem: Tandem) -> None:
    patient_id = await _enrolled(tandem, None)
    await tandem.pipeline.start_flow(patient_id, "program")
    for reply in ["0", "1", "0", "0", "2"]:  # negative screens, anxiety skills
        await say(tandem, reply)
    async with tandem.db.session() as session:
        facts = await load_facts(session, patient_id)
    assert facts["program"] == "anxiety"
    assert facts["last_scores"] == {"phq2": 1, "gad2": 0}
    totals = await _events(tandem, patient_id, "measure_total")
    assert totals == [
        {"measure": "phq2", "total": 1, "band": "negative", "positive": False},
        {"measure": "gad2", "total": 0, "band": "negative", "positive": False},
    ]
    items = await _events(tandem, patient_id, "measure")
    assert [(e["measure"], e["item"], e["value"]) for e in items] == [
        ("phq2", 1, 0), ("phq2", 2, 1), ("gad2", 1, 0), ("gad2", 2, 0),
    ]  # fmt: skip


async def test_worsening_uses_the_stored_last_total(tandem: Tandem) -> None:
    patient_id = await _enrolled(tandem, "ba")
    await tandem.pipeline.start_flow(patient_id, "measure_phq9")
    for reply in ["1", "1", "1", "1", "1", "0", "0", "0", "0", "0"]:
        await say(tandem, reply)
    await tandem.pipeline.start_flow(patient_id, "measure_phq9")
    for reply in ["2", "2", "2", "1", "1", "1", "1", "0", "0", "1"]:
        await say(tandem, reply)
    async with tandem.db.session() as session:
        facts = await load_facts(session, patient_id)
    assert facts["last_scores"] == {"phq9": 10}
    escalations = await _events(tandem, patient_id, "escalation_requested")
    assert [e["reason"] for e in escalations] == ["worsening"]


async def test_item9_sends_the_crisis_response_once_and_nothing_more(tandem: Tandem) -> None:
    patient_id = await _enrolled(tandem, "ba")
    await tandem.pipeline.start_flow(patient_id, "measure_phq9")
    for reply in ["0"] * 8:
        await say(tandem, reply)
    before = await last_id(tandem)
    await say(tandem, "several days")
    sent = await outbound(tandem, patient_id, after=before)
    assert sent[0] == "Thank you for telling me. You don't have to go through this alone."
    assert sum("988" in text for text in sent) == 1
    assert not any("how difficult" in text for text in sent)
    assert [e["reason"] for e in await _events(tandem, patient_id, "escalation_requested")] == [
        "risk"
    ]
    assert await _events(tandem, patient_id, "measure_total") == [
        {"measure": "phq9", "total": 1, "band": "minimal"}
    ]
