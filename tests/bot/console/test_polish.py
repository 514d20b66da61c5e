"""What a coach reads at a glance: the program a patient chose, their screener results, the
hand-back form only during a takeover, the queue's excerpt and times, same-name patients told
apart, and why a caseload is empty."""

from __future__ import annotations

import re

from bot.service import Tandem
from storage.models import Patient, PatientFact
from tests.bot.console.conftest import Client, Staff, login
from tests.helpers import say

RISK = "I want to kill myself tonight"
# Consent, name, check-in time, PHQ-2 items (0, 1), GAD-2 items (0, 0), a program (README's demo).
ONBOARDING = ("hello", "yes", "Sam", "9am", "0", "1", "0", "0", "2")


async def _own(
    tandem: Tandem, address: str, coach_id: str | None, name: str, channel: str = "try"
) -> str:
    receipt = await say(tandem, "hello", address=address, channel=channel)
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, receipt.patient_id)
        assert patient is not None
        patient.coach_id, patient.display_name = coach_id, name
    return receipt.patient_id


async def test_the_patient_page_shows_the_chosen_program_and_the_screener_scores(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    for text in ONBOARDING:
        receipt = await say(tandem, text, address="sam")
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, receipt.patient_id)
        assert patient is not None and patient.program is None  # chosen in the flow, not the API
        patient.coach_id = staff.kim
        program = await session.get(PatientFact, (patient.id, "program"))
        assert program is not None and program.value
    await login(client, "kim@example.org")
    html = await (await client.get(f"/console/patients/{receipt.patient_id}")).text()
    assert "not chosen" not in html
    assert re.search(rf"<dt>Program</dt><dd>{program.value}</dd>", html)
    table = html[html.index('id="latest-scores"') :]
    table = table[: table.index("</table>")]
    assert re.search(r"PHQ-2</th><td>1</td><td>[^<]*· <strong>negative screen", table)
    assert re.search(r"GAD-2</th><td>0</td><td>[^<]*· <strong>negative screen", table)


async def test_the_hand_back_form_shows_only_during_a_takeover(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    alice = await _own(tandem, "alice", staff.kim, "Alice")
    await say(tandem, RISK, address="alice")
    csrf = await login(client, "kim@example.org")
    page = await (await client.get(f"/console/patients/{alice}")).text()
    assert "Take over the conversation" in page
    assert "Hand back" not in page  # an open escalation alone is no takeover

    taken = await client.post(f"/console/patients/{alice}/takeover", data={"csrf": csrf})
    assert taken.status == 200  # followed to the page
    page = await taken.text()
    assert "Hand back to the bot" in page

    # Another coach may read (pool case) but not end Kim's takeover; a supervisor may.
    await login(client, "boss@example.org")
    assert "Hand back to the bot" in await (await client.get(f"/console/patients/{alice}")).text()


async def test_the_queue_shows_the_words_that_raised_it_and_when_in_both_clocks(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    alice = await _own(tandem, "+14155550123", staff.kim, "Alice")
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, alice)
        assert patient is not None
        patient.timezone = "America/Los_Angeles"
    await say(tandem, "first words, nothing risky", address="+14155550123")
    await say(tandem, RISK, address="+14155550123")
    await login(client, "kim@example.org")
    html = await (await client.get("/console/queue/rows")).text()
    excerpt = re.search(r'<blockquote class="excerpt">“([^”]*)”</blockquote>', html)
    assert excerpt is not None and excerpt.group(1) == RISK
    # Raised at the fake clock's 12:00 UTC (Monday 2 March 2026): 04:00 in Los Angeles.
    assert "2026-03-02 12:00 UTC" in html
    assert "Mon 04:00 America/Los_Angeles their time" in html
    assert "Their time now: Mon 04:00 America/Los_Angeles" in html


async def test_same_name_patients_are_told_apart_by_their_numbers_last_digits(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    await _own(tandem, "+14155550123", staff.kim, "Alex", "sms")
    await _own(tandem, "+14155554321", staff.kim, "Alex", "sms")
    await login(client, "kim@example.org")
    html = await (await client.get("/console/caseload")).text()
    assert html.count(">Alex</a>") == 2
    assert "…0123" in html and "…4321" in html
    assert "4155550123" not in html  # the whole number stays off the list

    found = await (await client.get("/console/caseload?q=4321")).text()
    assert "…4321" in found and "…0123" not in found


async def test_an_empty_caseload_says_why(client: Client, staff: Staff, tandem: Tandem) -> None:
    await login(client, "kim@example.org")
    html = await (await client.get("/console/caseload")).text()
    assert "No patients are assigned to you yet" in html

    await _own(tandem, "alice", staff.kim, "Alice")
    html = await (await client.get("/console/caseload?q=zed")).text()
    assert "No patient in your caseload matches “zed”" in html
    assert "clear the search" in html

    await login(client, "boss@example.org")
    html = await (await client.get("/console/caseload?all=1&q=zed")).text()
    assert "No patient at all matches “zed”" in html
