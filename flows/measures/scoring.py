"""Scoring, item-9 risk and reliable worsening for the standardised measures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flows.measures.model import MAX_OPTION, MIN_OPTION, Measure, catalog, get_item, get_measure


@dataclass(frozen=True)
class Score:
    measure_id: str
    total: int
    band: str
    positive: bool | None
    item9_risk: bool


def _check_value(measure_id: str, number: int, value: object) -> int:
    # bool is an int subclass; True/False as an answer means a caller bug, not a 1/0.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{measure_id} item {number}: answer must be an int, got {value!r}")
    if not MIN_OPTION <= value <= MAX_OPTION:
        raise ValueError(f"{measure_id} item {number}: answer {value} is outside 0-3")
    return value


def _band_for(measure: Measure, total: int) -> str:
    for band in measure.bands:
        if band.low <= total <= band.high:
            return band.label
    raise ValueError(f"{measure.id}: total {total} is outside 0-{measure.max_total}")


def score(measure_id: str, answers: Mapping[int, int]) -> Score:
    """Score a completed measure from item number -> answer (0-3).

    Every scored item must be present and in range, else ValueError. The PHQ-9's unscored
    difficulty question (item 10) is ignored whatever its value. Item numbers the measure does not
    have are rejected, so PHQ-9 answers are not silently scored as a PHQ-2.
    """
    measure = get_measure(measure_id)
    numbers = {item.number for item in measure.items}
    extra = sorted(n for n in answers if n not in numbers)
    if extra:
        raise ValueError(f"{measure_id} has no items {extra}")
    missing = [item.number for item in measure.items if item.scored and item.number not in answers]
    if missing:
        raise ValueError(f"{measure_id}: missing answers for items {missing}")
    total = sum(
        _check_value(measure_id, item.number, answers[item.number])
        for item in measure.items
        if item.scored
    )
    risk_item = catalog().risk_items.get(measure.id)
    return Score(
        measure_id=measure.id,
        total=total,
        band=_band_for(measure, total),
        positive=None if measure.positive_at is None else total >= measure.positive_at,
        item9_risk=risk_item is not None and answers[risk_item] > 0,
    )


def is_item9_risk(measure_id: str, number: int, value: int) -> bool:
    """True when this single answer must start a risk response now (PHQ-9 item 9 above 0).

    Only the PHQ-9 carries the item; a 0 does not mean the person is safe, so free-text risk
    detection must still run on every message.
    """
    measure = get_measure(measure_id)
    item = get_item(measure, number)
    if item.scored:
        _check_value(measure_id, number, value)
    return catalog().risk_items.get(measure.id) == number and value > 0


def _check_total(measure: Measure, total: int, name: str) -> None:
    if isinstance(total, bool) or not isinstance(total, int):
        raise ValueError(f"{measure.id}: {name} total must be an int, got {total!r}")
    if not 0 <= total <= measure.max_total:
        raise ValueError(f"{measure.id}: {name} total {total} is outside 0-{measure.max_total}")


def reliable_worsening(measure_id: str, previous: int | None, current: int) -> bool:
    """Whether a change in total is worth a coach's attention.

    PHQ-9: up by 5 or more, or newly at 20 or more. GAD-7: up by 5 or more, or newly at 15 or more
    (severe). With no previous total only reaching that level counts; staying there does not count
    again. Screeners have no reliable-change rule and raise ValueError.
    """
    measure = get_measure(measure_id)
    rule = catalog().worsening.get(measure.id)
    if rule is None:
        raise ValueError(f"{measure_id} has no reliable-change rule; use the full measure")
    _check_total(measure, current, "current")
    if previous is None:
        return current >= rule.alert_at
    _check_total(measure, previous, "previous")
    if current - previous >= rule.min_increase:
        return True
    return previous < rule.alert_at <= current
