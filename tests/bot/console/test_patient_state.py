"""One rule for a STOP-ed patient's schedule: the console form, the REST API and text commands
all refuse to pause, resume or move the check-in of an opted-out patient, and a coach's change
of check-in time is logged as the coach's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import FakeClock
from bot.service import Tandem
from storage.models import Event, Patient, ScheduleItem
from tests.bot.console.conftest import Client, Staff, login
from tests.bot.console.test_pages import _patient
from tests.bot.scheduling.sim import run_until
from tests.helpers import outbound, say


async def _stopped_patient(tandem: Tandem, coach_id: str) -> str:
    alice = await _patient(tandem, "alice", coach_id, "Alice")
    await say(tandem, "STOP", address="alice")
    async with tandem.db.session() as session:
        patient = await session.get(Patient, alice)
        assert patient is not None and patient.status == "opted_out"
    return alice


async def test_console_refuses_schedule_changes_for_an_opted_out_patient(
    client: Client, staff: Staff, tandem: Tandem, clock: FakeClock
) -> None:
    alice = await _stopped_patient(tandem, staff.kim)
    before = len(await outbound(tandem, alice))
    csrf = await login(client, "kim@example.org")
    url = f"/console/patients/{alice}/schedule"
    for data in (
        {"action": "checkin", "checkin_time": "12:05"},
        {"action": "pause", "days": "3"},
        {"action": "resume"},
    ):
        response = await client.post(url, data={"csrf": csrf, **data})
        assert response.status == 409, data
        assert "opted_out" in await response.text()
    async with tandem.db.session() as session:
        patient = await session.get(Patient, alice)
        assert patient is not None and patient.status == "opted_out"
        assert (await session.execute(select(ScheduleItem))).first() is None
    await run_until(tandem, clock, clock.now() + timedelta(days=2))
    assert len(await outbound(tandem, alice)) == before  # no check-in went to that number


async def test_text_command_after_stop_changes_nothing(tandem: Tandem, staff: Staff) -> None:
    alice = await _stopped_patient(tandem, staff.kim)
    await say(tandem, "pause 3", address="alice")
    async with tandem.db.session() as session:
        patient = await session.get(Patient, alice)
        assert patient is not None and patient.status == "opted_out"


async def test_console_checkin_change_is_logged_as_the_coach(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    alice = await _patient(tandem, "alice", staff.kim, "Alice")
    csrf = await login(client, "kim@example.org")
    response = await client.post(
        f"/console/patients/{alice}/schedule",
        data={"csrf": csrf, "action": "checkin", "checkin_time": "7:30pm"},
    )
    assert response.status == 200
    async with tandem.db.session() as session:
        rows = await session.execute(select(Event.data).where(Event.kind == "checkin_time_set"))
        assert [d["by"] for d in rows.scalars()] == [f"coach:{staff.kim}"]
