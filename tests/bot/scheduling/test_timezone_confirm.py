"""Through the real pipeline and database: an SMS patient's zone is guessed from the number and
confirmed in onboarding when the country has several zones; the check-in then fires at the chosen
local time in that zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.scheduling import control
from bot.service import Tandem
from bot.settings import Settings
from flows.library import FlowLibrary
from storage.models import Event, Patient, ScheduleItem
from tests.bot.scheduling.sim import run_until
from tests.helpers import outbound, say

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 07:00 in New York, 04:00 in Los Angeles


@pytest.fixture
async def es_tandem(db_url: str, library: FlowLibrary) -> AsyncIterator[Tandem]:
    settings = Settings(database_url=db_url, try_channel="on", default_locale="es")
    service = Tandem(settings, clock=FakeClock(START), library=library)
    yield service
    await service.close()


async def sms(tandem: Tandem, number: str, *texts: str) -> str:
    patient_id = ""
    for text in texts:
        patient_id = (await say(tandem, text, address=number, channel="sms")).patient_id
    return patient_id


async def patient_and_checkin(tandem: Tandem, patient_id: str) -> tuple[Patient, ScheduleItem]:
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        item = (
            await session.execute(
                select(ScheduleItem).where(
                    ScheduleItem.patient_id == patient_id, ScheduleItem.key == "checkin"
                )
            )
        ).scalar_one()
        assert patient is not None
        return patient, item


async def test_us_patient_confirms_pacific_and_checks_in_at_nine_there(
    tandem: Tandem, clock: FakeClock
) -> None:
    patient_id = await sms(tandem, "+12125550123", "hi")
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None
        assert (patient.timezone, patient.timezone_confirmed) == ("America/New_York", False)
    await sms(tandem, "+12125550123", "yes", "Sam", "9am")
    asked = (await outbound(tandem, patient_id))[-1]
    assert asked.startswith("Which time zone are you in?") and "\n5 Pacific\n" in asked
    await sms(tandem, "+12125550123", "Pacific")
    patient, item = await patient_and_checkin(tandem, patient_id)
    assert (patient.timezone, patient.timezone_confirmed) == ("America/Los_Angeles", True)
    assert patient.checkin_time == "09:00"
    # A burst of more than three texts is combined (bot/combine.py): look inside the messages.
    assert any("Got it, time zone: Pacific." in b for b in await outbound(tandem, patient_id))
    la = ZoneInfo("America/Los_Angeles")
    assert item.next_fire_at is not None
    assert item.next_fire_at.astimezone(la) == datetime(2026, 3, 2, 9, 0, tzinfo=la)  # today
    # Answer the program screen so nothing else is waiting, then let two days pass.
    await sms(tandem, "+12125550123", "0", "0", "0", "0", "1")
    await run_until(tandem, clock, START + timedelta(days=2))
    async with tandem.db.session() as session:
        fired = (
            await session.execute(
                select(Event.at).where(
                    Event.kind == "schedule_fired", Event.patient_id == patient_id
                )
            )
        ).scalars()
        local = [at.astimezone(la) for at in fired]
    assert [f"{t:%m-%d %H:%M}" for t in local] == ["03-02 09:00", "03-03 09:00"]


async def test_the_number_of_the_option_works_too(tandem: Tandem) -> None:
    patient_id = await sms(tandem, "+13125550123", "hi", "yes", "Kim", "8am", "2")
    patient, _ = await patient_and_checkin(tandem, patient_id)
    assert (patient.timezone, patient.timezone_confirmed) == ("America/Chicago", True)


async def test_uk_patient_is_never_asked(tandem: Tandem) -> None:
    patient_id = await sms(tandem, "+447400123456", "hi", "yes", "Ann", "9am")
    patient, item = await patient_and_checkin(tandem, patient_id)
    assert (patient.timezone, patient.timezone_confirmed) == ("Europe/London", True)
    assert not any("time zone" in body for body in await outbound(tandem, patient_id))
    assert item.next_fire_at is not None
    assert item.next_fire_at.astimezone(ZoneInfo("Europe/London")).time() == time(9, 0)


async def test_spanish_patient_is_asked_in_spanish_and_picks_canarias(
    es_tandem: Tandem,
) -> None:
    patient_id = await sms(es_tandem, "+34612345678", "hola", "sí", "Lucía", "9")
    asked = (await outbound(es_tandem, patient_id))[-1]
    assert asked.startswith("¿En qué zona horaria está?")
    assert "1 Península y Baleares\n2 Canarias" in asked
    await sms(es_tandem, "+34612345678", "Canarias")
    patient, item = await patient_and_checkin(es_tandem, patient_id)
    assert (patient.timezone, patient.timezone_confirmed) == ("Atlantic/Canary", True)
    assert item.next_fire_at is not None
    canary = ZoneInfo("Atlantic/Canary")
    assert item.next_fire_at.astimezone(canary) == datetime(2026, 3, 3, 9, 0, tzinfo=canary)


async def test_chat_patients_keep_the_default_zone_and_are_not_asked(tandem: Tandem) -> None:
    receipt = None
    for text in ("hi", "yes", "Bo", "9am"):
        receipt = await say(tandem, text, address="4242", channel="telegram")
    assert receipt is not None
    patient, _ = await patient_and_checkin(tandem, receipt.patient_id)
    assert (patient.timezone, patient.timezone_confirmed) == ("UTC", None)
    assert not any("time zone" in b for b in await outbound(tandem, receipt.patient_id))


async def test_a_zone_change_re_arms_a_check_in_made_before(tandem: Tandem) -> None:
    """A check-in scheduled in the guessed zone moves to the same local time in the new one."""
    patient_id = await sms(tandem, "+12125550123", "hi", "yes", "Sam", "9am", "zzz", "zzz", "zzz")
    patient, item = await patient_and_checkin(tandem, patient_id)
    ny, la = ZoneInfo("America/New_York"), ZoneInfo("America/Los_Angeles")
    assert (patient.timezone, patient.timezone_confirmed) == ("America/New_York", False)
    assert item.next_fire_at is not None
    assert item.next_fire_at.astimezone(ny) == datetime(2026, 3, 2, 9, 0, tzinfo=ny)
    async with tandem.db.session() as session, session.begin():
        row = await session.get(Patient, patient_id)
        assert row is not None
        rows = await control.set_timezone(
            session, row, "America/Los_Angeles", START, tandem.settings, by="coach:x"
        )
        assert rows == 1
        with pytest.raises(ValueError, match="unknown time zone"):
            await control.set_timezone(session, row, "Mars/Base", START, tandem.settings)
    patient, item = await patient_and_checkin(tandem, patient_id)
    assert (patient.timezone, patient.timezone_confirmed) == ("America/Los_Angeles", True)
    assert item.next_fire_at is not None
    assert item.next_fire_at.astimezone(la) == datetime(2026, 3, 2, 9, 0, tzinfo=la)
