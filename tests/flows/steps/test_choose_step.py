"""The choose step: options from a patient fact, answered by number, label, value or word;
fewer than two options (or options gone by the time of the answer) take `on_fail`."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from flows import model as m
from flows.compiler import CompiledFlow, FlowSource
from flows.engine import step
from flows.library import FlowLibrary

DEFINITION = {
    "id": "t",
    "start": "ask",
    "steps": {
        "ask": {"type": "choose", "prompt": "ask", "options": "patient.zones", "save": "zone",
                "save_label": "zone_label", "max_tries": 2, "on_fail": "failed", "next": "done"},
        "failed": {"type": "end", "outcome": "failed"},
        "done": {"type": "end"},
    },
}  # fmt: skip
TEXTS = {
    "en": {
        "ask": "Which?",
        "common.reask_choice": "Again?",
        "common.unclear_fallback": "Moving on.",
    }
}
LIBRARY = FlowLibrary([CompiledFlow(FlowSource(DEFINITION, TEXTS))])
ZONES = [
    {"value": "Europe/Madrid", "label": "Mainland", "words": ["madrid"]},
    {"value": "Atlantic/Canary", "label": "Canary Islands", "words": ["tenerife"]},
    {"value": "Europe/Bad", "label": ""},  # malformed entries are left out
    "nonsense",
]


def _ctx(**patient: Any) -> m.Context:
    ids = itertools.count()
    return m.Context(
        now=datetime(2026, 3, 2, 9, tzinfo=UTC),
        locale="en",
        timezone="UTC",
        new_id=lambda: f"id{next(ids)}",
        rng=random.Random(1),
        patient=patient,
    )


def _sends(result: m.StepResult) -> list[m.Send]:
    return [a for a in result.actions if isinstance(a, m.Send)]


def test_lists_the_options_as_numbered_lines_and_buttons() -> None:
    result = step(LIBRARY, None, m.Start("t"), _ctx(zones=ZONES))
    (send,) = _sends(result)
    assert send.text == "Which?\n1 Mainland\n2 Canary Islands"
    assert send.choices == (("Mainland", "Europe/Madrid"), ("Canary Islands", "Atlantic/Canary"))


@pytest.mark.parametrize(
    ("answer", "payload"),
    [("2", None), ("canary islands", None), ("TENERIFE!", None), ("", "Atlantic/Canary")],
)
def test_answers(answer: str, payload: str | None) -> None:
    run = step(LIBRARY, None, m.Start("t"), _ctx(zones=ZONES)).run
    result = step(LIBRARY, run, m.Text(answer, payload), _ctx(zones=ZONES))
    assert result.run is not None and result.run.status == "ended"
    assert result.run.variables["zone"] == "Atlantic/Canary"
    assert result.run.variables["zone_label"] == "Canary Islands"
    assert [a.outcome for a in result.actions if isinstance(a, m.FlowEnded)] == ["completed"]


def test_not_understood_twice_takes_on_fail() -> None:
    run = step(LIBRARY, None, m.Start("t"), _ctx(zones=ZONES)).run
    again = step(LIBRARY, run, m.Text("3"), _ctx(zones=ZONES))
    assert _sends(again)[0].text.startswith("Again?\n1 Mainland")
    failed = step(LIBRARY, again.run, m.Text("mars"), _ctx(zones=ZONES))
    assert [s.text for s in _sends(failed)] == ["Moving on."]  # never a silent skip
    assert [a.outcome for a in failed.actions if isinstance(a, m.FlowEnded)] == ["failed"]


@pytest.mark.parametrize("zones", [[], ZONES[:1], None, "Europe/Madrid"])
def test_fewer_than_two_options_skip_the_question(zones: Any) -> None:
    result = step(LIBRARY, None, m.Start("t"), _ctx(zones=zones))
    assert _sends(result) == []
    assert [a.outcome for a in result.actions if isinstance(a, m.FlowEnded)] == ["failed"]


def test_options_gone_by_the_answer_take_on_fail() -> None:
    run = step(LIBRARY, None, m.Start("t"), _ctx(zones=ZONES)).run
    result = step(LIBRARY, run, m.Text("2"), _ctx(zones=[]))
    assert [a.outcome for a in result.actions if isinstance(a, m.FlowEnded)] == ["failed"]
