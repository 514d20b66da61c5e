"""Probabilities from a policy hook, clipped to the file's band, recorded with its version; a
failing hook falls back to the fixed table, recorded as such."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from bot.study.policy import clip
from flows.library import FlowLibrary
from tests.bot.study import policies
from tests.bot.study.conftest import point, write_study
from tests.bot.study.helpers import decisions, enrolled, tick

DAY1 = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)


async def _run(settings: Settings, clock: FakeClock, library: FlowLibrary, path: Path) -> Tandem:
    return Tandem(settings.model_copy(update={"study_file": path}), clock=clock, library=library)


@pytest.fixture
async def hooked(
    settings: Settings, clock: FakeClock, library: FlowLibrary, tmp_path: Path
) -> AsyncIterator[Tandem]:
    path = write_study(
        tmp_path,
        decision_points=[point(policy="tests.bot.study.policies:greedy", clip=[0.1, 0.9])],
    )
    tandem = await _run(settings, clock, library, path)
    yield tandem
    await tandem.close()


async def test_hook_probabilities_are_clipped_and_recorded(
    hooked: Tandem, clock: FakeClock
) -> None:
    policies.CALLS.clear()
    patient_id = await enrolled(hooked, "h")
    for day in range(2):
        clock.set(DAY1.replace(day=3 + day))
        await tick(hooked)
    first, second, _ = await decisions(hooked, patient_id)
    for row in (first, second):
        assert row.probabilities == pytest.approx({"none": 0.1, "checkin_prompt": 0.9})
        assert row.policy_version == "greedy-1"
        assert row.probability == pytest.approx(row.probabilities[row.action or ""])
    context = policies.CALLS[-1]
    assert context.decision_index == 1 and context.actions == ("none", "checkin_prompt")
    assert context.arm in ("control", "coached") and context.prior == {
        "none": 0.5,
        "checkin_prompt": 0.5,
    }
    assert context.history == ((first.action, None),)  # day 1's outcome window still open


async def test_a_failing_hook_falls_back_to_the_fixed_table(
    settings: Settings, clock: FakeClock, library: FlowLibrary, tmp_path: Path
) -> None:
    path = write_study(tmp_path, decision_points=[point(policy="tests.bot.study.policies:broken")])
    tandem = await _run(settings, clock, library, path)
    try:
        patient_id = await enrolled(tandem, "b")
        clock.set(DAY1)
        await tick(tandem)
        (row, *_) = await decisions(tandem, patient_id)
        assert row.probabilities == {"none": 0.5, "checkin_prompt": 0.5}
        assert row.policy_version is not None and row.policy_version.startswith("fallback:fixed:")
    finally:
        await tandem.close()


@given(
    st.lists(st.floats(0, 1), min_size=2, max_size=5),
    st.floats(0.0, 0.2),
    st.floats(0.5, 1.0),
)
def test_clipping_stays_in_the_band_and_sums_to_one(
    weights: list[float], low: float, high: float
) -> None:
    total = sum(weights)
    if total == 0 or not len(weights) * low <= 1 <= len(weights) * high:
        return
    table = {f"a{i}": w / total for i, w in enumerate(weights)}
    clipped = clip(table, low, high)
    assert sum(clipped.values()) == pytest.approx(1.0)
    assert all(low - 1e-9 <= p <= high + 1e-9 for p in clipped.values())
