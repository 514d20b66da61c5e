"""Through the real scheduler and database: a check-in in a spring-forward gap fires once at the
next valid minute, one in a fall-back overlap fires once, in several zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from storage.models import Event, Patient
from tests.bot.scheduling.sim import run_until
from tests.helpers import say

CASES = [
    # zone, local check-in, transition day, expected local fire on that day
    ("America/New_York", "2:30am", date(2026, 3, 8), "03:00"),
    ("America/New_York", "1:30am", date(2026, 11, 1), "01:30"),
    ("Europe/Madrid", "2:30am", date(2026, 3, 29), "03:00"),
    ("Europe/Madrid", "2:30am", date(2026, 10, 25), "02:30"),
    ("Australia/Sydney", "2:30am", date(2026, 10, 4), "03:00"),
    ("Australia/Sydney", "2:30am", date(2026, 4, 5), "02:30"),
]


@pytest.mark.parametrize(("zone", "said", "day", "expected"), CASES)
async def test_transition_day_fires_once(
    db_url: str, zone: str, said: str, day: date, expected: str
) -> None:
    tz = ZoneInfo(zone)
    start = datetime.combine(day - timedelta(days=2), datetime.min.time(), tz).astimezone(UTC)
    clock = FakeClock(start + timedelta(hours=12))
    settings = Settings(
        database_url=db_url, try_channel="on", quiet_hours_start="00:00", quiet_hours_end="00:00"
    )
    tandem = Tandem(settings, clock=clock)
    try:
        receipt = await say(tandem, "hi")
        async with tandem.db.session() as session, session.begin():
            await session.execute(
                update(Patient).where(Patient.id == receipt.patient_id).values(timezone=zone)
            )
        for text in ("yes", "Kim", said, "5", "skip"):
            await say(tandem, text)
        end = datetime.combine(day + timedelta(days=2), datetime.min.time(), tz).astimezone(UTC)
        await run_until(tandem, clock, end)
        async with tandem.db.session() as session:
            fired = list(
                (
                    await session.execute(
                        select(Event.at).where(Event.kind == "schedule_fired").order_by(Event.id)
                    )
                ).scalars()
            )
        local = [at.astimezone(tz) for at in fired]
        on_day = [f"{t:%H:%M}" for t in local if t.date() == day]
        assert on_day == [expected]
        assert len({t.date() for t in local}) == len(local)  # one fire per local day
        assert len(local) == 3  # the day before, the transition day, the day after
    finally:
        await tandem.close()
