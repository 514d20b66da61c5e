from __future__ import annotations

import pytest

from flows.measures import MEASURE_IDS, Score, get_measure, is_item9_risk, reliable_worsening, score


def answers_for(measure_id: str, total: int, item9: int | None = None) -> dict[int, int]:
    """Answers summing to `total`, filling items in order with 3s (optionally pinning item 9)."""
    measure = get_measure(measure_id)
    scored = [i.number for i in measure.items if i.scored]
    answers: dict[int, int] = {}
    remaining = total
    if item9 is not None:
        answers[9] = item9
        remaining -= item9
        scored.remove(9)
    for number in scored:
        answers[number] = min(3, remaining)
        remaining -= answers[number]
    assert remaining == 0 and sum(answers.values()) == total
    return answers


BOUNDARIES = [
    ("phq9", 0, "minimal"),
    ("phq9", 4, "minimal"),
    ("phq9", 5, "mild"),
    ("phq9", 9, "mild"),
    ("phq9", 10, "moderate"),
    ("phq9", 14, "moderate"),
    ("phq9", 15, "moderately_severe"),
    ("phq9", 19, "moderately_severe"),
    ("phq9", 20, "severe"),
    ("phq9", 27, "severe"),
    ("gad7", 0, "minimal"),
    ("gad7", 4, "minimal"),
    ("gad7", 5, "mild"),
    ("gad7", 9, "mild"),
    ("gad7", 10, "moderate"),
    ("gad7", 14, "moderate"),
    ("gad7", 15, "severe"),
    ("gad7", 21, "severe"),
    ("phq2", 0, "negative"),
    ("phq2", 2, "negative"),
    ("phq2", 3, "positive"),
    ("phq2", 6, "positive"),
    ("gad2", 0, "negative"),
    ("gad2", 2, "negative"),
    ("gad2", 3, "positive"),
    ("gad2", 6, "positive"),
]


@pytest.mark.parametrize(("measure_id", "total", "band"), BOUNDARIES)
def test_band_at_boundary(measure_id: str, total: int, band: str) -> None:
    # Item 9 pinned to 0 so only the band is under test here.
    item9 = 0 if measure_id == "phq9" and total <= 24 else None
    result = score(measure_id, answers_for(measure_id, total, item9))
    assert result.total == total
    assert result.band == band
    assert result.measure_id == measure_id


@pytest.mark.parametrize("measure_id", MEASURE_IDS)
def test_every_total_has_the_band_containing_it(measure_id: str) -> None:
    measure = get_measure(measure_id)
    for total in range(measure.max_total + 1):
        (band,) = [b for b in measure.bands if b.low <= total <= b.high]
        assert score(measure_id, answers_for(measure_id, total)).band == band.label


@pytest.mark.parametrize(
    ("measure_id", "answers", "positive"),
    [
        ("phq2", {1: 0, 2: 0}, False),
        ("phq2", {1: 1, 2: 1}, False),
        ("phq2", {1: 2, 2: 0}, False),
        ("phq2", {1: 2, 2: 1}, True),
        ("phq2", {1: 0, 2: 3}, True),
        ("phq2", {1: 3, 2: 3}, True),
        ("gad2", {1: 1, 2: 1}, False),
        ("gad2", {1: 0, 2: 2}, False),
        ("gad2", {1: 1, 2: 2}, True),
        ("gad2", {1: 3, 2: 0}, True),
    ],
)
def test_screener_positivity(measure_id: str, answers: dict[int, int], positive: bool) -> None:
    result = score(measure_id, answers)
    assert result.positive is positive
    assert result.band == ("positive" if positive else "negative")
    assert result.item9_risk is False


@pytest.mark.parametrize("measure_id", ["phq9", "gad7"])
def test_full_measures_have_no_positivity(measure_id: str) -> None:
    assert score(measure_id, answers_for(measure_id, 12)).positive is None


def test_score_dataclass_value() -> None:
    answers = {1: 1, 2: 2, 3: 3, 4: 0, 5: 1, 6: 2, 7: 0, 8: 1, 9: 0, 10: 2}
    assert score("phq9", answers) == Score("phq9", 10, "moderate", None, False)


@pytest.mark.parametrize(("item9", "risk"), [(0, False), (1, True), (2, True), (3, True)])
def test_item9_risk_in_score(item9: int, risk: bool) -> None:
    answers = {n: 0 for n in range(1, 9)} | {9: item9}
    result = score("phq9", answers)
    assert result.item9_risk is risk
    assert result.total == item9
    # Low totals do not hide item-9 risk.
    assert result.band == "minimal"


@pytest.mark.parametrize(("value", "risk"), [(0, False), (1, True), (2, True), (3, True)])
def test_is_item9_risk_for_phq9_item9(value: int, risk: bool) -> None:
    assert is_item9_risk("phq9", 9, value) is risk


@pytest.mark.parametrize(
    ("measure_id", "number", "value"),
    [
        ("phq9", 1, 3),
        ("phq9", 8, 3),
        ("phq9", 10, 3),
        ("gad7", 7, 3),
        ("phq2", 2, 3),
        ("gad2", 1, 3),
    ],
)
def test_other_items_are_not_item9_risk(measure_id: str, number: int, value: int) -> None:
    assert is_item9_risk(measure_id, number, value) is False


@pytest.mark.parametrize(
    ("measure_id", "number", "value"),
    [("phq9", 9, 4), ("phq9", 9, -1), ("phq2", 9, 1), ("gad7", 9, 1), ("nope", 9, 1)],
)
def test_is_item9_risk_rejects_bad_input(measure_id: str, number: int, value: int) -> None:
    with pytest.raises(ValueError):
        is_item9_risk(measure_id, number, value)


def test_difficulty_item_is_ignored_by_score() -> None:
    base = answers_for("phq9", 13, item9=0)
    without = score("phq9", base)
    for difficulty in (0, 1, 2, 3, 99, -5):
        assert score("phq9", base | {10: difficulty}) == without
    assert without.total == 13


@pytest.mark.parametrize("missing", range(1, 10))
def test_missing_scored_item_raises(missing: int) -> None:
    answers = answers_for("phq9", 9)
    del answers[missing]
    with pytest.raises(ValueError, match=rf"missing answers for items \[{missing}\]"):
        score("phq9", answers)


@pytest.mark.parametrize("bad", [-1, 4, 10, True, False, 1.0, "2", None])
def test_out_of_range_or_wrong_type_answer_raises(bad: object) -> None:
    answers: dict[int, object] = {1: 1, 2: bad, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0}
    with pytest.raises(ValueError, match="gad7 item 2"):
        score("gad7", answers)  # type: ignore[arg-type]  # wrong types on purpose


@pytest.mark.parametrize(
    ("measure_id", "extra"), [("phq2", 3), ("gad2", 9), ("gad7", 8), ("phq9", 11)]
)
def test_items_the_measure_lacks_raise(measure_id: str, extra: int) -> None:
    answers = answers_for(measure_id, 2) | {extra: 1}
    with pytest.raises(ValueError, match="has no items"):
        score(measure_id, answers)


def test_unknown_measure_raises() -> None:
    with pytest.raises(ValueError, match="unknown measure id"):
        score("phq8", {})


@pytest.mark.parametrize(
    ("measure_id", "previous", "current", "expected"),
    [
        # PHQ-9: up by 5 or more, or into 20+.
        ("phq9", 5, 10, True),
        ("phq9", 5, 9, False),
        ("phq9", 0, 5, True),
        ("phq9", 10, 14, False),
        ("phq9", 19, 20, True),
        ("phq9", 16, 19, False),
        ("phq9", 20, 22, False),  # already severe, small rise: not news
        ("phq9", 20, 25, True),
        ("phq9", 25, 20, False),
        ("phq9", 14, 9, False),
        ("phq9", 12, 12, False),
        ("phq9", None, 19, False),
        ("phq9", None, 20, True),
        ("phq9", None, 0, False),
        # GAD-7: up by 5 or more, or into severe (15+).
        ("gad7", 4, 9, True),
        ("gad7", 4, 8, False),
        ("gad7", 14, 15, True),
        ("gad7", 11, 14, False),
        ("gad7", 15, 18, False),
        ("gad7", 16, 21, True),
        ("gad7", 21, 15, False),
        ("gad7", None, 14, False),
        ("gad7", None, 15, True),
    ],
)
def test_reliable_worsening(
    measure_id: str, previous: int | None, current: int, expected: bool
) -> None:
    assert reliable_worsening(measure_id, previous, current) is expected


@pytest.mark.parametrize(
    ("measure_id", "previous", "current", "message"),
    [
        ("phq2", 0, 6, "no reliable-change rule"),
        ("gad2", None, 6, "no reliable-change rule"),
        ("phq9", 0, 28, "current total 28"),
        ("phq9", -1, 5, "previous total -1"),
        ("gad7", None, 22, "current total 22"),
        ("nope", 0, 1, "unknown measure id"),
    ],
)
def test_reliable_worsening_rejects_bad_input(
    measure_id: str, previous: int | None, current: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        reliable_worsening(measure_id, previous, current)
