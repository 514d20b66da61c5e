"""The measure step: band boundaries for every measure, answer parsing, item 9 and worsening."""

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
from flows.measures import get_measure

LIBRARY = FlowLibrary.load()
COMMON = {
    loc: {k: v for k, v in texts.items() if k.startswith("common.")}
    for loc, texts in LIBRARY.get("checkin").source.texts.items()
}


def _library(measure: str) -> FlowLibrary:
    definition = {
        "id": "t",
        "start": "ask",
        "steps": {
            "ask": {"type": "measure", "measure": measure, "max_tries": 2, "on_fail": "failed",
                    "on_risk": "risk", "next": "done"},
            "failed": {"type": "end", "outcome": "failed"},
            "risk": {"type": "end", "outcome": "risk"},
            "done": {"type": "end"},
        },
    }  # fmt: skip
    return FlowLibrary([CompiledFlow(FlowSource(definition, COMMON))])


def _ctx(locale: str = "en", **patient: Any) -> m.Context:
    ids = itertools.count()
    return m.Context(
        now=datetime(2026, 3, 2, 9, tzinfo=UTC),
        locale=locale,
        timezone="UTC",
        new_id=lambda: f"id{next(ids)}",
        rng=random.Random(1),
        patient=patient,
    )


def _run(
    measure: str, replies: list[str], locale: str = "en", **patient: Any
) -> tuple[m.RunState | None, list[m.Action]]:
    library = _library(measure)
    result = step(library, None, m.Start("t"), _ctx(locale, **patient))
    actions = list(result.actions)
    for reply in replies:
        result = step(library, result.run, m.Text(reply), _ctx(locale, **patient))
        actions.extend(result.actions)
    return result.run, actions


def _answers_for(measure: str, total: int) -> list[str]:
    """Replies giving `total`, spread over the scored items without touching PHQ-9 item 9."""
    items = get_measure(measure).items
    values = [0] * len(items)
    left = total
    order = [i for i, it in enumerate(items) if it.scored and it.number != 9] + [
        i for i, it in enumerate(items) if it.number == 9 and measure == "phq9"
    ]
    for i in order:
        values[i] = min(3, left)
        left -= values[i]
    assert left == 0
    return [str(v) for v in values]


BOUNDARIES = {
    "phq9": [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
             (14, "moderate"), (15, "moderately_severe"), (19, "moderately_severe"),
             (20, "severe"), (27, "severe")],
    "gad7": [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
             (14, "moderate"), (15, "severe"), (21, "severe")],
    "phq2": [(0, "negative"), (2, "negative"), (3, "positive"), (6, "positive")],
    "gad2": [(0, "negative"), (2, "negative"), (3, "positive"), (6, "positive")],
}  # fmt: skip


@pytest.mark.parametrize(
    ("measure", "total", "band"),
    [(mid, total, band) for mid, cases in BOUNDARIES.items() for total, band in cases],
)
def test_every_band_boundary(measure: str, total: int, band: str) -> None:
    run, actions = _run(measure, _answers_for(measure, total))
    assert run is not None and run.status == "ended"
    scored = [a for a in actions if isinstance(a, m.MeasureScored)]
    assert [(s.total, s.band) for s in scored] == [(total, band)]
    assert run.variables[f"{measure}_total"] == total
    assert run.variables[f"{measure}_band"] == band
    if measure in ("phq2", "gad2"):
        assert scored[0].positive is (total >= 3)
    items = [a for a in actions if isinstance(a, m.RecordMeasure)]
    expected = [i.number for i in get_measure(measure).items]
    if measure == "phq9" and total > 24:  # item 9 above 0: the difficulty question is skipped
        expected = expected[:9]
    assert [a.item for a in items] == expected


PARSING = [
    ("0", 0), ("3", 3), ("not at all", 0), ("Several days", 1), ("more than half the days", 2),
    ("nearly every day", 3), ("nearly evry day", 3), ("every day", 3), ("never", 0),
    ("varios días", 1), ("mas de la mitad", 2), ("casi todos los dias", 3), ("nada", 0),
    ("4", None), ("2 days", None), ("sometimes", None), ("1 or 2", None), ("not every day", None),
    ("", None), ("2.5", None),
]  # fmt: skip


@pytest.mark.parametrize(("reply", "value"), PARSING)
def test_item_answers(reply: str, value: int | None) -> None:
    run, actions = _run("gad2", [reply])
    recorded = [a.value for a in actions if isinstance(a, m.RecordMeasure)]
    sends = [a for a in actions if isinstance(a, m.Send)]
    if value is None:
        assert recorded == []
        assert run is not None and run.state == "ask" and run.retries == 1
        assert sends[-1].text.startswith("Sorry")
    else:
        assert recorded == [value]
        assert "Not being able to stop" in sends[-1].text


def test_button_payload_is_accepted() -> None:
    library = _library("gad2")
    run = step(library, None, m.Start("t"), _ctx()).run
    result = step(library, run, m.Text("", payload="2"), _ctx())
    assert [a.value for a in result.actions if isinstance(a, m.RecordMeasure)] == [2]


def test_difficulty_question_uses_its_own_words_and_is_not_scored() -> None:
    replies = ["3"] * 8 + ["0", "extremely difficult"]
    run, actions = _run("phq9", replies)
    assert [a for a in actions if isinstance(a, m.RecordMeasure)][-1] == m.RecordMeasure(
        "phq9", 10, 3
    )
    assert run is not None and run.variables["phq9_total"] == 24


def test_gives_up_after_max_tries_without_a_score() -> None:
    run, actions = _run("phq2", ["1", "hmm", "what?"])
    assert run is not None and run.status == "ended"
    assert run.variables["phq2_total"] is None
    assert not [a for a in actions if isinstance(a, m.MeasureScored)]
    assert [a.outcome for a in actions if isinstance(a, m.FlowEnded)] == ["failed"]


@pytest.mark.parametrize("value", [1, 2, 3])
def test_item9_above_zero_escalates_at_once_and_asks_nothing_more(value: int) -> None:
    library = _library("phq9")
    result = step(library, None, m.Start("t"), _ctx())
    for reply in ["1"] * 8:
        result = step(library, result.run, m.Text(reply), _ctx())
    result = step(library, result.run, m.Text(str(value)), _ctx())
    kinds = [type(a).__name__ for a in result.actions]
    # Supportive words, then the escalation (its handler sends the crisis resources), in order.
    assert kinds[:3] == ["RecordMeasure", "Send", "Escalate"]
    escalations = [a for a in result.actions if isinstance(a, m.Escalate)]
    assert escalations == [m.Escalate("risk", "urgent", f"phq9 item 9 answered {value}")]
    sends = [a for a in result.actions if isinstance(a, m.Send)]
    assert len(sends) == 1 and sends[0].urgent
    assert sends[0].text.startswith("Thank you for telling me")
    # Scored at once (only the unscored difficulty question was left); nothing else is asked.
    scored = [a for a in result.actions if isinstance(a, m.MeasureScored)]
    band = "mild" if value == 1 else "moderate"
    assert [(s.total, s.band) for s in scored] == [(8 + value, band)]
    assert result.run is not None and result.run.status == "ended"
    assert [a.outcome for a in result.actions if isinstance(a, m.FlowEnded)] == ["risk"]


def test_item9_zero_does_not_escalate() -> None:
    _, actions = _run("phq9", ["3"] * 8 + ["0", "1"], previous=None)
    assert not [a for a in actions if isinstance(a, m.Escalate) and a.reason == "risk"]


@pytest.mark.parametrize(
    ("previous", "total", "alert"),
    [(8, 13, True), (8, 12, False), (None, 19, False), (None, 20, True), (18, 20, True),
     (21, 22, False)],
)  # fmt: skip
def test_reliable_worsening_against_the_last_total(
    previous: int | None, total: int, alert: bool
) -> None:
    last = {} if previous is None else {"phq9": previous}
    _, actions = _run("phq9", [*_answers_for("phq9", total), "0"], last_scores=last)
    worsening = [a for a in actions if isinstance(a, m.Escalate) and a.reason == "worsening"]
    assert bool(worsening) is alert
    if alert:
        assert worsening[0].priority == "high"


def test_screeners_never_check_worsening() -> None:
    _, actions = _run("phq2", ["3", "3"], last_scores={"phq2": 0})
    assert not [a for a in actions if isinstance(a, m.Escalate)]


@pytest.mark.parametrize(
    ("reply", "locale"),
    [("maybe a bit", "en"), ("once or twice", "en"), ("I wouldn't say never", "en"),
     ("sometimes", "en"), ("idk", "en"), ("casi nunca", "es"), ("a veces", "es"),
     ("puede ser", "es"), ("no sé", "es"), ("un poco", "es")],
)  # fmt: skip
def test_unclear_item9_counts_as_positive_and_escalates_in_the_same_turn(
    reply: str, locale: str
) -> None:
    library = _library("phq9")
    result = step(library, None, m.Start("t"), _ctx(locale))
    for answer in ["0"] * 8:
        result = step(library, result.run, m.Text(answer), _ctx(locale))
    result = step(library, result.run, m.Text(reply), _ctx(locale))
    recorded = [a for a in result.actions if isinstance(a, m.RecordMeasure)]
    assert recorded == [m.RecordMeasure("phq9", 9, 1, raw=reply, interpreted=True)]
    escalations = [a for a in result.actions if isinstance(a, m.Escalate)]
    assert [(e.reason, e.priority) for e in escalations] == [("risk", "urgent")]
    assert "unclear" in escalations[0].detail
    assert [a.outcome for a in result.actions if isinstance(a, m.FlowEnded)] == ["risk"]


@pytest.mark.parametrize("reply", ["0", "not at all", "never", "no", "nunca", "para nada"])
def test_clear_zero_on_item9_is_zero_and_quiet(reply: str) -> None:
    _, actions = _run("phq9", ["0"] * 8 + [reply, "0"])
    assert m.RecordMeasure("phq9", 9, 0) in actions
    assert not [a for a in actions if isinstance(a, m.Escalate)]


def test_item9_unanswered_after_the_reasks_escalates_high_never_a_silent_skip() -> None:
    run, actions = _run("phq9", ["0"] * 8 + ["what?", "hmm"])
    escalations = [a for a in actions if isinstance(a, m.Escalate)]
    assert [(e.reason, e.priority) for e in escalations] == [("risk", "high")]
    assert escalations[0].detail.startswith("PHQ-9 item 9 unanswered")
    assert not [a for a in actions if isinstance(a, m.RecordMeasure) and a.item == 9]
    assert run is not None and run.status == "ended"
    assert [a.outcome for a in actions if isinstance(a, m.FlowEnded)] == ["risk"]


def test_other_items_keep_todays_parsing() -> None:
    # "maybe a bit" on item 1 is not understood (asked again), not read as an answer.
    _, actions = _run("phq9", ["maybe a bit"])
    assert not [a for a in actions if isinstance(a, m.RecordMeasure)]
    assert not [a for a in actions if isinstance(a, m.Escalate)]


def test_measure_timing_out_on_item9_escalates_high() -> None:
    definition = {
        "id": "t",
        "start": "ask",
        "steps": {
            "ask": {"type": "measure", "measure": "phq9", "on_risk": "risk", "next": "done",
                    "timeout": {"after_hours": 1, "then": "closed"}},
            "closed": {"type": "end", "outcome": "closed"},
            "risk": {"type": "end", "outcome": "risk"},
            "done": {"type": "end"},
        },
    }  # fmt: skip
    library = FlowLibrary([CompiledFlow(FlowSource(definition, COMMON))])
    result = step(library, None, m.Start("t"), _ctx())
    for answer in ["0"] * 8:
        result = step(library, result.run, m.Text(answer), _ctx())
    assert result.run is not None and result.run.timeout_at is not None
    late = m.Context(**{**vars(_ctx()), "now": result.run.timeout_at})
    result = step(library, result.run, m.Timeout(), late)
    escalations = [a for a in result.actions if isinstance(a, m.Escalate)]
    assert [(e.reason, e.priority) for e in escalations] == [("risk", "high")]
    assert "timed out" in escalations[0].detail
    assert [a.outcome for a in result.actions if isinstance(a, m.FlowEnded)] == ["risk"]


def test_measure_timing_out_before_item9_does_not_escalate() -> None:
    definition = {
        "id": "t",
        "start": "ask",
        "steps": {
            "ask": {"type": "measure", "measure": "phq9", "next": "done",
                    "timeout": {"after_hours": 1, "then": "done"}},
            "done": {"type": "end"},
        },
    }  # fmt: skip
    library = FlowLibrary([CompiledFlow(FlowSource(definition, COMMON))])
    result = step(library, None, m.Start("t"), _ctx())
    assert result.run is not None and result.run.timeout_at is not None
    late = m.Context(**{**vars(_ctx()), "now": result.run.timeout_at})
    result = step(library, result.run, m.Timeout(), late)
    assert not [a for a in result.actions if isinstance(a, m.Escalate)]
