"""WORRY texts through the real pipeline: saved for worry time, the waiting flow left alone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.facts import load_facts
from bot.service import Tandem
from bot.worrylog import MAX_SAVED, parse_worry
from storage.models import Event, FlowRun, Patient
from tests.helpers import last_id, outbound, say


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("worry the rent is due", "the rent is due"),
        ("WORRY: exam on Monday", "exam on Monday"),
        ("Worried about   mum", "about mum"),
        ("preocupación: el examen", "el examen"),
        ("Preocupacion el alquiler", "el alquiler"),
        ("worry", ""),
        ("I worry about money", None),
        ("worrying", None),
        ("5", None),
    ],
)
def test_parse_worry(text: str, expected: str | None) -> None:
    assert parse_worry(text) == expected


async def _consented(tandem: Tandem, locale: str = "en") -> str:
    receipt = await say(tandem, "hello")
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, receipt.patient_id)
        assert patient is not None
        patient.consent_given, patient.locale = True, locale
    return receipt.patient_id


async def _run(tandem: Tandem, patient_id: str) -> tuple[str, str]:
    async with tandem.db.session() as session:
        row = (
            (
                await session.execute(
                    select(FlowRun)
                    .where(FlowRun.patient_id == patient_id, FlowRun.status != "ended")
                    .order_by(FlowRun.id.desc())
                )
            )
            .scalars()
            .first()
        )
        assert row is not None
        return row.flow_id, row.state


async def test_worry_saved_without_moving_the_waiting_flow(tandem: Tandem) -> None:
    pid = await _consented(tandem)
    await tandem.pipeline.start_flow(pid, "anx_breathing")
    assert await _run(tandem, pid) == ("anx_breathing", "distress_before")
    before = await last_id(tandem)
    await say(tandem, "worry the rent is due on Friday")
    assert await outbound(tandem, pid, after=before) == [
        "Saved for your worry time. You can set it aside until then."
    ]
    assert await _run(tandem, pid) == ("anx_breathing", "distress_before")
    async with tandem.db.session() as session:
        facts = await load_facts(session, pid)
        kinds = list((await session.execute(select(Event.kind))).scalars())
    assert facts["anx_worries"] == ["the rent is due on Friday"]
    assert "worry_logged" in kinds
    await say(tandem, "6")  # the breathing exercise carries on
    assert await _run(tandem, pid) == ("anx_breathing", "choose")


async def test_free_text_answer_is_left_to_the_flow(tandem: Tandem) -> None:
    pid = await _consented(tandem)
    await tandem.pipeline.start_flow(pid, "anx_thought_record")
    assert await _run(tandem, pid) == ("anx_thought_record", "situation")
    await say(tandem, "worry about my job came up at work")
    assert await _run(tandem, pid) == ("anx_thought_record", "mood")
    async with tandem.db.session() as session:
        assert "anx_worries" not in await load_facts(session, pid)


async def test_keyword_alone_explains_and_worry_time_lists_them(tandem: Tandem) -> None:
    pid = await _consented(tandem, locale="es")
    before = await last_id(tandem)
    await say(tandem, "preocupación")
    sent = await outbound(tandem, pid, after=before)
    assert len(sent) == 1 and sent[0].startswith("Cuando le venga una preocupación")
    await say(tandem, "preocupación: el examen del lunes")
    await say(tandem, "Preocupacion el alquiler")
    before = await last_id(tandem)
    await tandem.pipeline.start_flow(pid, "anx_worry_review")
    await say(tandem, "7")
    sent = await outbound(tandem, pid, after=before)
    assert "1 el examen del lunes\n2 el alquiler" in sent[-2]
    await say(tandem, "2")
    async with tandem.db.session() as session:
        assert (await load_facts(session, pid))["anx_worries"] == []


async def test_not_before_consent_and_list_is_capped(tandem: Tandem) -> None:
    receipt = await say(tandem, "worry about everything")
    assert (await _run(tandem, receipt.patient_id))[0] == "onboarding"
    pid = await _consented(tandem)
    for i in range(MAX_SAVED + 3):
        await say(tandem, f"worry number {i}")
    async with tandem.db.session() as session:
        saved = (await load_facts(session, pid))["anx_worries"]
    assert len(saved) == MAX_SAVED and saved[-1] == f"number {MAX_SAVED + 2}"
