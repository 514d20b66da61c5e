"""Measurement-based care outcomes: response, remission and week-6 non-response. Pure.

Definitions (docs/CONTENT.md, "Measurement-based care"), for the PHQ-9 and the GAD-7 alike:

- An *episode* starts at the first completed measure (the baseline), or at the first one after a
  gap of more than `EPISODE_GAP` without any; only the current episode counts.
- *Response*: the latest total is at most half the baseline total (a drop of 50% or more), from a
  baseline of 5 or more (someone starting below 5 is already in the remission range).
- *Remission*: the latest total is below 5.
- *Non-response at week 6*: the first measure at or after 6 weeks from the baseline dropped less
  than 50% from the baseline and is not in remission (below 5). Decided once by that measure; later
  measures do not change it. None until such a measure exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flows.measures.model import get_measure

OUTCOME_MEASURES = ("phq9", "gad7")
REMISSION_BELOW = 5
RESPONSE_DROP = 0.5
NON_RESPONSE_AFTER = timedelta(weeks=6)
EPISODE_GAP = timedelta(days=90)


@dataclass(frozen=True)
class Administration:
    """One completed measure: its total and when it was completed (aware UTC)."""

    total: int
    at: datetime


@dataclass(frozen=True)
class Outcome:
    measure: str
    baseline: Administration
    latest: Administration
    previous: Administration | None  # the one before the latest, in this episode
    count: int  # completed measures in this episode
    change_pct: float | None  # drop from baseline in percent (negative: higher); None at 0
    response: bool
    remission: bool
    week6: Administration | None  # the measure that decides non-response
    non_response: bool | None  # None: no measure at or after week 6 yet


def episode(history: Iterable[Administration]) -> list[Administration]:
    """The administrations of the current episode, oldest first."""
    ordered = sorted(history, key=lambda a: a.at)
    start = 0
    for i in range(1, len(ordered)):
        if ordered[i].at - ordered[i - 1].at > EPISODE_GAP:
            start = i
    return ordered[start:]


def responded(baseline: int, total: int) -> bool:
    """A drop of 50% or more from a baseline of at least 5."""
    return baseline >= REMISSION_BELOW and total <= baseline * RESPONSE_DROP


def remitted(total: int) -> bool:
    return total < REMISSION_BELOW


def compute(measure_id: str, history: Iterable[Administration]) -> Outcome | None:
    """The outcome of the current episode of `measure_id` (phq9 or gad7); None without any."""
    if measure_id not in OUTCOME_MEASURES:
        raise ValueError(f"{measure_id!r} has no outcomes; use one of {OUTCOME_MEASURES}")
    max_total = get_measure(measure_id).max_total
    items = episode(history)
    for a in items:
        if isinstance(a.total, bool) or not 0 <= a.total <= max_total:
            raise ValueError(f"{measure_id}: total {a.total!r} is outside 0-{max_total}")
    if not items:
        return None
    baseline, latest = items[0], items[-1]
    week6 = next((a for a in items[1:] if a.at - baseline.at >= NON_RESPONSE_AFTER), None)
    non_response = None
    if week6 is not None:
        non_response = not responded(baseline.total, week6.total) and not remitted(week6.total)
    change = None
    if baseline.total > 0:
        change = round(100.0 * (baseline.total - latest.total) / baseline.total, 1)
    return Outcome(
        measure=measure_id,
        baseline=baseline,
        latest=latest,
        previous=items[-2] if len(items) > 1 else None,
        count=len(items),
        change_pct=change,
        response=len(items) > 1 and responded(baseline.total, latest.total),
        remission=remitted(latest.total),
        week6=week6,
        non_response=non_response,
    )


def history_from(raw: Any, measure_id: str) -> list[Administration]:
    """Administrations from the `measure_history` patient fact ({"phq9": [{"total", "at"}]});
    malformed entries are ignored (the fact is derived from the event log)."""
    entries = raw.get(measure_id) if isinstance(raw, Mapping) else None
    out: list[Administration] = []
    for entry in entries if isinstance(entries, Sequence) else ():
        if not isinstance(entry, Mapping):
            continue
        total, at = entry.get("total"), entry.get("at")
        if isinstance(total, int) and not isinstance(total, bool) and isinstance(at, str):
            try:
                out.append(Administration(total, datetime.fromisoformat(at)))
            except ValueError:
                continue
    return out


def direction(before: int, after: int) -> str:
    """ "lower", "same" or "higher": how `after` compares with `before` for the patient's words.

    A change of fewer than 3 points is "about the same" (below what the measures tell apart)."""
    if after <= before - 3:
        return "lower"
    if after >= before + 3:
        return "higher"
    return "same"
