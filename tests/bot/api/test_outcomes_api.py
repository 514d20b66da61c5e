"""`outcomes` in the API's patient JSON: each measure's current episode (measurement-based care)."""

from __future__ import annotations

from datetime import timedelta

from bot.facts import set_facts
from bot.service import Tandem
from storage import repo
from tests.bot.api.conftest import Staff, auth
from tests.bot.api.test_api import Client, enrol


async def test_patient_json_has_outcomes(client: Client, tandem: Tandem, staff: Staff) -> None:
    patient_id = await enrol(client, staff.kim)
    url = f"/api/v1/patients/{patient_id}"
    assert (await (await client.get(url, headers=auth(staff.kim))).json())["outcomes"] == {}

    # A patient measured before the history fact existed: read from the event log.
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        for days, total in [(0, 16), (43, 12)]:
            data = {"measure": "phq9", "total": total, "band": "x"}
            await repo.log(session, now + timedelta(days=days), "measure_total", patient_id, data)
    phq9 = (await (await client.get(url, headers=auth(staff.kim))).json())["outcomes"]["phq9"]
    assert (phq9["baseline"], phq9["latest"], phq9["count"]) == (16, 12, 2)
    assert phq9["change_pct"] == 25.0 and phq9["non_response"] is True
    assert phq9["response"] is False and phq9["remission"] is False

    # The history fact, once there, is what counts.
    history = {"gad7": [{"total": 10, "at": now.isoformat()}]}
    async with tandem.db.session() as session, session.begin():
        await set_facts(session, patient_id, {"measure_history": history}, now)
    outcomes = (await (await client.get(url, headers=auth(staff.kim))).json())["outcomes"]
    assert set(outcomes) == {"gad7"} and outcomes["gad7"]["non_response"] is None


async def test_patient_json_shows_the_program_chosen_in_the_conversation(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    patient_id = await enrol(client, staff.kim)
    url = f"/api/v1/patients/{patient_id}"
    assert (await (await client.get(url, headers=auth(staff.kim))).json())["program"] is None
    # The program flow keeps the choice as a fact, not on the patient row.
    async with tandem.db.session() as session, session.begin():
        await set_facts(session, patient_id, {"program": "anxiety"}, tandem.clock.now())
    assert (await (await client.get(url, headers=auth(staff.kim))).json())["program"] == "anxiety"
