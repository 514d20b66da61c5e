"""The pure engine: every step type, subflows, timeouts, declared edges only, never crashing."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transitions import MachineError

from flows import model as m
from flows.engine import EngineError, step
from flows.library import FlowLibrary

FIXTURE = Path(__file__).with_name("engine_fixture")
LIBRARY = FlowLibrary.load(FIXTURE)
REAL = FlowLibrary.load()
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ctx(now: datetime = NOW, locale: str = "en") -> m.Context:
    ids = itertools.count()
    return m.Context(
        now=now,
        locale=locale,
        timezone="UTC",
        new_id=lambda: f"r{next(ids)}",
        rng=random.Random(0),
        patient={"name": None, "checkin_time": None},
        site={"program": "Tandem"},
    )


def sends(result: m.StepResult) -> list[str]:
    return [a.text for a in result.actions if isinstance(a, m.Send)]


def test_choice_lists_options_and_offers_buttons() -> None:
    result = step(LIBRARY, None, m.Start("demo"), ctx())
    send = next(a for a in result.actions if isinstance(a, m.Send))
    assert send.text == "What now?\n1 Walk\n2 Call someone"
    assert send.choices == (("Walk", "walk"), ("Call someone", "call"))
    assert result.run is not None and result.run.status == "waiting"


@pytest.mark.parametrize(
    ("text", "payload"),
    [("1", None), ("walk", None), ("Stroll!", None), ("paseo", None), ("", "walk")],
)
def test_choice_accepts_numbers_labels_synonyms_and_buttons(text: str, payload: str | None) -> None:
    run = step(LIBRARY, None, m.Start("demo"), ctx()).run
    result = step(LIBRARY, run, m.Text(text, payload), ctx())
    assert result.run is not None and result.run.variables["choice"] == "walk"
    assert sends(result) == ["Sure?"]
    assert result.run.flow_id == "demo_sub" and result.run.stack[0].call_state == "sub"


def test_subflow_returns_and_shares_variables_then_every_action_kind() -> None:
    run = step(LIBRARY, None, m.Start("demo"), ctx()).run
    run = step(LIBRARY, run, m.Text("1"), ctx()).run
    result = step(LIBRARY, run, m.Text("yes"), ctx())
    assert sends(result) == ["Enjoy the walk."]
    kinds = [type(a).__name__ for a in result.actions]
    assert "FlowEnded" in kinds and "Schedule" in kinds and "Escalate" in kinds
    schedule = next(a for a in result.actions if isinstance(a, m.Schedule))
    assert schedule.at == NOW + timedelta(hours=2) and schedule.data == {"flow": "demo"}
    escalate = next(a for a in result.actions if isinstance(a, m.Escalate))
    assert escalate.detail == "chose walk"
    assert result.run is not None
    assert (result.run.flow_id, result.run.state, result.run.stack) == ("demo", "hold", ())
    assert result.run.variables["count"] == 1
    assert result.run.timeout_at == NOW + timedelta(hours=1)


def test_failed_tries_fall_through_with_the_variable_unset() -> None:
    run = step(LIBRARY, None, m.Start("demo"), ctx()).run
    run = step(LIBRARY, run, m.Text("2"), ctx()).run
    first = step(LIBRARY, run, m.Text("perhaps"), ctx())
    assert sends(first) == ["Yes or no?"] and first.run is not None and first.run.retries == 1
    second = step(LIBRARY, first.run, m.Text("hmm"), ctx())
    assert sends(second) == ["Moving on.", "Okay."]  # the fallback is said, never a silent skip
    assert second.run is not None and second.run.variables["ok"] is None


def test_timeout_on_a_wait_moves_on_and_ends() -> None:
    run = step(LIBRARY, None, m.Start("demo"), ctx()).run
    run = step(LIBRARY, run, m.Text("1"), ctx()).run
    run = step(LIBRARY, run, m.Text("no"), ctx()).run
    assert run is not None and run.state == "hold"
    early = step(LIBRARY, run, m.Timeout(), ctx())
    assert early.run is not None
    result = step(LIBRARY, run, m.Timeout(), ctx(NOW + timedelta(hours=2)))
    assert result.run is not None and result.run.status == "ended"
    assert m.FlowEnded("demo", "finished") in result.actions


def test_a_flow_that_never_waits_is_stopped() -> None:
    with pytest.raises(EngineError, match="without waiting"):
        step(LIBRARY, None, m.Start("looping"), ctx())


def test_machine_only_moves_along_declared_edges() -> None:
    flow = LIBRARY.get("demo")
    assert ("pick", "answered", "sub") in flow.edges()
    token = type("T", (), {})()
    flow.machine.add_model(token, initial="pick")
    try:
        with pytest.raises(MachineError):
            token.trigger("to__walked")
        token.trigger("to__sub")
        assert token.state == "sub"
    finally:
        flow.machine.remove_model(token)
    assert token not in flow.machine.models


def test_steps_reuse_the_flows_machine_models() -> None:
    # Binding a fresh model to the machine every step is what cost the CPU; the engine keeps one.
    flow = LIBRARY.get("demo")
    step(LIBRARY, None, m.Start("demo"), ctx())
    models = list(flow.machine.models)
    for _ in range(20):
        step(LIBRARY, None, m.Start("demo"), ctx())
    assert flow.machine.models == models and len(models) == 1


def test_ended_runs_ignore_text_and_unknown_versions_are_errors() -> None:
    ended = m.RunState("r", "demo", LIBRARY.get("demo").version, "done", status="ended")
    assert step(LIBRARY, ended, m.Text("hi"), ctx()).actions == ()
    missing = m.RunState("r", "demo", "0-gone", "pick", status="waiting")
    with pytest.raises(EngineError, match="not loaded"):
        step(LIBRARY, missing, m.Text("1"), ctx())


def _states(library: FlowLibrary, flow_id: str) -> list[m.RunState]:
    """Every waiting state of a flow, reached by walking it with plausible answers."""
    answers = ["yes", "Sam", "9am", "5", "skip", "1", "no"]
    found = []
    run = step(library, None, m.Start(flow_id), ctx()).run
    for text in answers:
        if run is None or run.status == "ended":
            break
        found.append(run)
        run = step(library, run, m.Text(text), ctx()).run
    return found


WAITING = [run for flow_id in sorted(REAL.current) for run in _states(REAL, flow_id)]


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(WAITING) - 1),
    text=st.text(max_size=300),
    payload=st.none() | st.text(max_size=40),
    locale=st.sampled_from(["en", "es", "fr"]),
)
def test_no_input_text_crashes_a_step(
    index: int, text: str, payload: str | None, locale: str
) -> None:
    result = step(REAL, WAITING[index], m.Text(text, payload), ctx(locale=locale))
    assert result.run is not None
    assert all(isinstance(a.text, str) and a.text for a in result.actions if isinstance(a, m.Send))
