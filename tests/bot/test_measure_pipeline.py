"""Through the real pipeline: PHQ-2 / GAD-2 answers carried into the PHQ-9 / GAD-7 given right
after (not asked twice, logged), the history fact kept, and the burst after the last measure
answer arriving as at most three messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.facts import load_facts
from bot.service import Tandem
from storage.models import Event, Message, Patient
from tests.helpers import say


async def _events(tandem: Tandem, pid: str, kind: str) -> list[dict[str, Any]]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Event.data).where(Event.patient_id == pid, Event.kind == kind).order_by(Event.id)
        )
        return list(rows.scalars())


async def _out_count(tandem: Tandem, pid: str) -> int:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Message.id).where(Message.patient_id == pid, Message.direction == "out")
        )
        return len(rows.all())


async def test_screen_carried_over_and_the_burst_after_it_combined(tandem: Tandem) -> None:
    pid = (await say(tandem, "hi", address="carry")).patient_id
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, pid)
        assert patient is not None
        patient.consent_given, patient.checkin_time = True, "09:00"
    await tandem.pipeline.start_flow(pid, "program")
    for answer in ["2", "2", "2", "2", "3"]:  # PHQ-2 4, GAD-2 4 (both positive), choose both
        await say(tandem, answer, address="carry")
    carried = await _events(tandem, pid, "measure_carried_over")
    assert [(e["measure"], e["item"], e["from"]) for e in carried] == [
        ("phq9", 1, "phq2"),
        ("phq9", 2, "phq2"),
    ]
    for answer in ["1", "1", "1", "1", "1", "1", "0", "1"]:  # PHQ-9 items 3-9, then item 10
        await say(tandem, answer, address="carry")
    assert [e["total"] for e in await _events(tandem, pid, "measure_total")][-1] == 10
    assert len(await _events(tandem, pid, "measure_carried_over")) == 4  # GAD-7 items 1-2 too
    for answer in ["1", "1", "1", "0"]:  # GAD-7 items 3-6
        await say(tandem, answer, address="carry")
    before = await _out_count(tandem, pid)
    await say(tandem, "0", address="carry")  # the last GAD-7 item: the program starts
    assert 1 <= await _out_count(tandem, pid) - before <= 3
    totals = {e["measure"]: e["total"] for e in await _events(tandem, pid, "measure_total")}
    assert totals == {"phq2": 4, "gad2": 4, "phq9": 10, "gad7": 7}
    async with tandem.db.session() as session:
        history = (await load_facts(session, pid))["measure_history"]
    assert history["phq2"][0]["answers"] == {"1": 2, "2": 2}
    assert [e["total"] for e in history["phq9"]] == [10]
    assert [e["total"] for e in history["gad7"]] == [7]
