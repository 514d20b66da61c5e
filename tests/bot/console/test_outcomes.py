"""The patient page's outcomes block: response, remission and week-6 non-response."""

from __future__ import annotations

from datetime import timedelta

from bot.service import Tandem
from storage import repo
from tests.bot.console.conftest import Client, Staff, login
from tests.bot.console.test_pages import _patient


async def _total(tandem: Tandem, patient: str, days: int, measure: str, total: int) -> None:
    at = tandem.clock.now() + timedelta(days=days)
    async with tandem.db.session() as session, session.begin():
        data = {"measure": measure, "total": total, "band": "x"}
        await repo.log(session, at, "measure_total", patient, data)


async def test_outcomes_block_on_the_patient_page(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    alice = await _patient(tandem, "alice", staff.kim, "Alice")
    await login(client, "kim@example.org")
    html = await (await client.get(f"/console/patients/{alice}")).text()
    assert 'id="outcomes-h"' in html and "No PHQ-9 or GAD-7 completed yet." in html

    for days, phq9_total, gad7_total in [(0, 16, 12), (14, 15, 8), (42, 12, 4)]:
        await _total(tandem, alice, days, "phq9", phq9_total)
        await _total(tandem, alice, days, "gad7", gad7_total)
    html = await (await client.get(f"/console/patients/{alice}")).text()
    phq9 = html.split('data-measure="phq9"')[1].split("</tr>")[0]
    gad7 = html.split('data-measure="gad7"')[1].split("</tr>")[0]
    assert "Non-response at week 6" in phq9 and "25.0% lower" in phq9
    assert "Remission" in gad7 and "Response" in gad7 and "Responding at week 6" in gad7
    assert "Non-response" not in gad7


async def test_before_week_six_the_check_date_is_shown(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    bob = await _patient(tandem, "bob", staff.kim, "Bob")
    await _total(tandem, bob, 0, "gad7", 10)
    await login(client, "kim@example.org")
    html = await (await client.get(f"/console/patients/{bob}")).text()
    row = html.split('data-measure="gad7"')[1].split("</tr>")[0]
    assert "Week-6 check due" in row and "Non-response" not in row
    assert 'data-measure="phq9"' not in html
