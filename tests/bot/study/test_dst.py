"""Decision times in the patient's zone across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from bot.study.config import DecisionPoint
from bot.study.points import occurrences
from flows.library import FlowLibrary
from tests.bot.study.conftest import point, write_study
from tests.bot.study.helpers import decisions, enrolled, tick


def test_spring_forward_keeps_local_times_and_moves_a_skipped_one() -> None:
    spec = DecisionPoint.model_validate(point(local_times=["19:00", "02:30"], days=3))
    enrolled = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # Friday in New York
    rows = list(occurrences(spec, enrolled, "America/New_York"))
    assert [(i, local) for i, _, local in rows] == [
        (0, "2026-03-07T02:30:00"),
        (1, "2026-03-07T19:00:00"),
        (2, "2026-03-08T03:00:00"),  # 02:30 does not exist that night: the first minute after
        (3, "2026-03-08T19:00:00"),
        (4, "2026-03-09T02:30:00"),
        (5, "2026-03-09T19:00:00"),
    ]
    utc = {i: at for i, at, _ in rows}
    assert utc[1] == datetime(2026, 3, 8, 0, 0, tzinfo=UTC)  # EST: UTC-5
    assert utc[3] == datetime(2026, 3, 8, 23, 0, tzinfo=UTC)  # EDT: UTC-4
    assert utc[2] == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_fall_back_fires_a_repeated_time_once() -> None:
    spec = DecisionPoint.model_validate(point(local_times=["01:30"], days=2))
    enrolled = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)  # London, clocks go back on the 25th
    rows = list(occurrences(spec, enrolled, "Europe/London"))
    assert [(local, at) for _, at, local in rows] == [
        ("2026-10-25T01:30:00", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # first, BST
        ("2026-10-26T01:30:00", datetime(2026, 10, 26, 1, 30, tzinfo=UTC)),
    ]


async def test_the_runner_decides_at_19_local_on_both_sides_of_the_change(
    settings: Settings, clock: FakeClock, library: FlowLibrary, tmp_path: Path
) -> None:
    path = write_study(tmp_path, decision_points=[point(days=7)])
    tandem = Tandem(settings.model_copy(update={"study_file": path}), clock=clock, library=library)
    try:
        clock.set(datetime(2026, 3, 6, 15, 0, tzinfo=UTC))
        patient_id = await enrolled(tandem, "ny", timezone="America/New_York")
        for at in ("2026-03-08T00:00:00+00:00", "2026-03-08T23:00:00+00:00"):
            clock.set(datetime.fromisoformat(at))
            assert await tick(tandem) == 1
        rows = [r for r in await decisions(tandem, patient_id) if r.status == "decided"]
        assert [r.decided_local for r in rows] == ["2026-03-07T19:00:00", "2026-03-08T19:00:00"]
        assert all(r.timezone == "America/New_York" for r in rows)
    finally:
        await tandem.close()
