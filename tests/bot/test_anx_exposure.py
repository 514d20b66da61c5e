"""The exposure ladder outlives the run that built it: saved as facts, read back next time."""

from __future__ import annotations

from bot.facts import load_facts
from bot.service import Tandem
from storage.models import Patient
from tests.helpers import last_id, outbound, say


async def test_ladder_persists_between_sessions(tandem: Tandem) -> None:
    receipt = await say(tandem, "hello")
    pid = receipt.patient_id
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, pid)
        assert patient is not None
        patient.consent_given = True
    await tandem.pipeline.start_flow(pid, "anx_exposure")
    # DONE at 3 steps gets one nudge towards 10-15; DONE again keeps these.
    for text in ["Big party", "80", "Coffee shop", "20", "Bus at rush hour", "30", "done", "done"]:
        await say(tandem, text)
    # Gaps 30 -> 80: offered a step in between, declined.
    await say(tandem, "no")
    async with tandem.db.session() as session:
        facts = await load_facts(session, pid)
    assert [s["suds"] for s in facts["anx_ladder"]] == [20, 30, 80]
    assert facts["anx_ladder_current"] == 0
    # One practice at a low peak is not enough: the step stays until a second one in a row.
    await tandem.pipeline.start_flow(pid, "anx_exposure")
    for text in ["1", "20", "10", "5"]:
        await say(tandem, text)
    async with tandem.db.session() as session:
        facts = await load_facts(session, pid)
    assert facts["anx_ladder_current"] == 0
    assert [(p["before"], p["peak"], p["after"]) for p in facts["anx_exposure_log"]] == [
        (20, 10, 5)
    ]
    before = await last_id(tandem)
    await tandem.pipeline.start_flow(pid, "anx_exposure")
    for text in ["1", "15", "ten", "0", "yes"]:
        await say(tandem, text)
    sent = await outbound(tandem, pid, after=before)
    assert sent[0].startswith('Your step now: "Coffee shop"')
    assert "went from 10 to 10 over your last 2 practices" in " ".join(sent)
    assert sent[-1].startswith('Great! Your new step is "Bus at rush hour"')
    async with tandem.db.session() as session:
        facts = await load_facts(session, pid)
    assert facts["anx_ladder_current"] == 1
    assert len(facts["anx_exposure_log"]) == 2
