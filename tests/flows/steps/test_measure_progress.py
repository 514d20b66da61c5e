"""Measure step additions for measurement-based care: the patient's own progress (every text
fits SMS) and PHQ-2 / GAD-2 answers carried over into the PHQ-9 / GAD-7 given right after."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.channels.sms_text import count_segments
from flows import model as m
from flows.compiler import CompiledFlow, FlowError, FlowSource
from flows.engine import step
from flows.library import FlowLibrary
from flows.measures import get_measure
from flows.measures.outcomes import Administration, compute
from flows.measures.progress import progress
from flows.texts import render

LIBRARY = FlowLibrary.load()
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _ctx(now: datetime = NOW, **patient: Any) -> m.Context:
    ids = itertools.count()
    return m.Context(
        now=now,
        locale="en",
        timezone="UTC",
        new_id=lambda: f"id{next(ids)}",
        rng=random.Random(1),
        patient=patient,
    )


def _history(*totals: int) -> list[Administration]:
    return [Administration(t, NOW + timedelta(days=14 * i)) for i, t in enumerate(totals)]


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("measure", ["phq9", "gad7"])
def test_every_progress_message_fits_the_sms_rules(locale: str, measure: str) -> None:
    """English stays GSM-7 in at most 2 segments; Spanish at most 3 UCS-2 segments (201)."""
    flow = LIBRARY.get(f"measure_{measure}")
    top = get_measure(measure).max_total
    cases = [_history(t) for t in (0, 4, 9, 14, 19, top)]
    cases += [_history(a, b) for a in (top, 12, 5) for b in (top, 12, 0)]
    cases += [_history(top, b, c) for b in (top, 10) for c in (top, 12, 9)]
    seen = set()
    for history in cases:
        outcome = compute(measure, history)
        assert outcome is not None
        band = next(
            b.label for b in get_measure(measure).bands if b.low <= history[-1].total <= b.high
        )
        said = progress(outcome, band)
        shown: dict[str, Any] = dict(said.numbers)

        for name, key in said.fragments.items():
            shown[name] = render(flow.text(key, locale), {"progress": shown})
        body = render(flow.text(said.key, locale), {"progress": shown})
        seen.add(said.key)
        encoding, segments = count_segments(body)
        if locale == "en":
            assert (encoding, segments <= 2) == ("GSM-7", True), body
        else:
            assert len(body) <= 201 and segments <= 3, body
    assert len(seen) == 3  # first, later, later_both


def _phq9(**patient: Any) -> m.StepResult:
    return step(LIBRARY, None, m.Start("measure_phq9"), _ctx(**patient))


def _items(result: m.StepResult) -> list[tuple[int, int, str | None]]:
    return [
        (a.item, a.value, a.carried_from) for a in result.actions if isinstance(a, m.RecordMeasure)
    ]


def _screen(hours_ago: float, answers: dict[str, int] | None = None) -> dict[str, Any]:
    at = (NOW - timedelta(hours=hours_ago)).isoformat()
    return {"total": 3, "at": at, "answers": answers or {"1": 1, "2": 2}}


def test_a_screener_within_24_hours_is_carried_over() -> None:
    result = _phq9(measure_history={"phq2": [_screen(24)]})
    assert _items(result) == [(1, 1, "phq2"), (2, 2, "phq2")]
    assert result.run is not None and result.run.variables["phq9_item"] == 2
    sends = [a.text for a in result.actions if isinstance(a, m.Send)]
    assert sends[0].startswith("Time for 7 short questions")
    assert "Over the last 2 weeks" in sends[1] and "sleeping too much" in sends[1]


@pytest.mark.parametrize(
    "history",
    [
        {"phq2": [_screen(24.1)]},  # too long ago
        {"phq2": [_screen(-1)]},  # from the future: a clock problem, never trusted
        {"phq2": [_screen(2, {"1": 1})]},  # incomplete
        {"phq2": [_screen(2, {"1": 1, "2": 7})]},  # out of range
        {
            "phq2": [_screen(2)],
            "phq9": [{"total": 9, "at": (NOW - timedelta(hours=1)).isoformat()}],
        },
        {"gad2": [_screen(1)]},  # another measure's screener
        {},
    ],
)
def test_screener_answers_that_do_not_count(history: dict[str, Any]) -> None:
    result = _phq9(measure_history=history)
    assert _items(result) == []
    sends = [a.text for a in result.actions if isinstance(a, m.Send)]
    assert sends[0].startswith("Time for 9 short questions")


def test_progress_is_only_for_the_full_measures() -> None:
    definition = {
        "id": "t",
        "start": "ask",
        "steps": {
            "ask": {"type": "measure", "measure": "phq2", "progress": True, "next": "done"},
            "done": {"type": "end"},
        },
    }
    with pytest.raises(FlowError, match="progress is only told"):
        CompiledFlow(FlowSource(definition, LIBRARY.get("checkin").source.texts))
