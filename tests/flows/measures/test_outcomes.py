"""Response, remission and week-6 non-response at their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.measures.outcomes import (
    Administration,
    compute,
    direction,
    episode,
    history_from,
)

T0 = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)


def at(days: float, total: int) -> Administration:
    return Administration(total, T0 + timedelta(days=days))


def test_no_history_has_no_outcome() -> None:
    assert compute("phq9", []) is None


def test_baseline_alone_is_neither_response_nor_non_response() -> None:
    out = compute("phq9", [at(0, 16)])
    assert out is not None
    assert out.baseline == out.latest == at(0, 16)
    assert out.previous is None and out.count == 1
    assert not out.response and not out.remission
    assert out.non_response is None and out.week6 is None


@pytest.mark.parametrize(
    ("baseline", "latest", "response"),
    [(16, 8, True), (16, 9, False), (15, 7, True), (15, 8, False), (10, 5, True), (5, 2, True)],
)
def test_response_is_a_drop_of_half_or_more(baseline: int, latest: int, response: bool) -> None:
    out = compute("phq9", [at(0, baseline), at(14, latest)])
    assert out is not None and out.response is response


def test_response_needs_a_baseline_of_at_least_5() -> None:
    out = compute("gad7", [at(0, 4), at(14, 0)])
    assert out is not None and not out.response and out.remission


@pytest.mark.parametrize(("total", "remission"), [(4, True), (5, False), (0, True)])
def test_remission_is_below_5(total: int, remission: bool) -> None:
    out = compute("gad7", [at(0, 12), at(14, total)])
    assert out is not None and out.remission is remission


def test_non_response_decided_by_the_first_measure_at_or_after_six_weeks() -> None:
    # Day 41.9 is before week 6; day 42 exactly is the deciding one.
    history = [at(0, 16), at(41.9, 15), at(42, 9), at(56, 4)]
    out = compute("phq9", history)
    assert out is not None
    assert out.week6 == at(42, 9)
    assert out.non_response is True  # 9 > 16 / 2
    assert out.response and out.remission  # the latest (4) responded; week 6 stays decided


def test_half_drop_at_week_six_is_not_non_response() -> None:
    out = compute("phq9", [at(0, 16), at(43, 8)])
    assert out is not None and out.non_response is False


def test_remission_at_week_six_is_not_non_response() -> None:
    out = compute("gad7", [at(0, 6), at(42, 4)])
    assert out is not None and out.non_response is False


def test_before_week_six_non_response_is_undecided() -> None:
    out = compute("phq9", [at(0, 20), at(14, 19), at(41, 19)])
    assert out is not None and out.non_response is None and out.week6 is None


def test_a_long_gap_starts_a_new_episode() -> None:
    history = [at(0, 20), at(14, 18), at(14 + 91, 12), at(14 + 91 + 42, 11)]
    assert episode(history) == history[2:]
    out = compute("phq9", history)
    assert out is not None and out.baseline == at(105, 12) and out.non_response is True


def test_change_percent_and_order_independence() -> None:
    out = compute("phq9", [at(28, 6), at(0, 12), at(14, 10)])
    assert out is not None
    assert out.baseline.total == 12 and out.previous == at(14, 10) and out.latest == at(28, 6)
    assert out.change_pct == 50.0
    zero = compute("phq9", [at(0, 0), at(14, 3)])
    assert zero is not None and zero.change_pct is None


def test_bad_totals_and_measures_are_refused() -> None:
    with pytest.raises(ValueError, match="outside 0-21"):
        compute("gad7", [at(0, 22)])
    with pytest.raises(ValueError, match="no outcomes"):
        compute("phq2", [at(0, 3)])


def test_history_from_the_fact_ignores_malformed_entries() -> None:
    raw = {
        "phq9": [
            {"total": 12, "at": "2026-03-02T19:00:00+00:00"},
            {"total": "x", "at": "2026-03-03T19:00:00+00:00"},
            {"total": 3, "at": "not a date"},
            "junk",
        ]
    }
    assert history_from(raw, "phq9") == [at(0, 12)]
    assert history_from(raw, "gad7") == [] and history_from(None, "phq9") == []


@pytest.mark.parametrize(
    ("before", "after", "word"),
    [(12, 9, "lower"), (12, 10, "same"), (12, 14, "same"), (12, 15, "higher")],
)
def test_direction_for_the_patient(before: int, after: int, word: str) -> None:
    assert direction(before, after) == word
