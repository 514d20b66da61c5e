"""The pure flow engine: (run state, event, context) -> (new run state, actions).

No I/O and no clock: everything time-, id- or chance-dependent comes in through `Context`. A step
restores the run's state onto a model of the flow version's shared `transitions` machine, moves it
only along declared edges, and hands the model back in `finally` (a machine per patient would cost
~48 KiB each). Models are kept on the flow and reused: `add_model` binds a method per trigger and
state, which cost a check-in a seventh of its CPU when done afresh every step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flows import model as m
from flows.compiler import CompiledFlow
from flows.library import FlowLibrary
from flows.steps.base import Call, End, Goto, Outcome, Runtime, Wait

MAX_MOVES = 200  # a flow that moves this often without waiting has a loop


class EngineError(Exception):
    """A flow misbehaved (a loop, a missing version); the step is not applied."""


class _Token:
    """The throwaway model a run's state is restored onto for one step."""

    state: str


def _borrow(flow: CompiledFlow, state: str) -> _Token:
    # Steps never await, so a token is back on its flow before another step can borrow it.
    if flow.spare_tokens:
        token: _Token = flow.spare_tokens.pop()
        flow.machine.set_state(state, model=token)
        return token
    token = _Token()
    flow.machine.add_model(token, initial=state)
    return token


class _Cursor:
    def __init__(self, library: FlowLibrary, flow: CompiledFlow, rt: Runtime) -> None:
        self.library = library
        self.flow = flow
        self.rt = rt
        self.token = _borrow(flow, rt.state)

    def release(self) -> None:
        self.flow.spare_tokens.append(self.token)

    def move(self, dest: str) -> None:
        source = self.rt.state
        self.token.trigger(f"to__{dest}")  # type: ignore[attr-defined]
        self.rt.state = self.token.state
        self.rt.retries = 0
        self.rt.reminded = False
        self.rt.emit(m.Transition(self.flow.id, source, dest))

    def switch(self, flow: CompiledFlow, state: str) -> None:
        self.release()
        self.flow = flow
        self.rt.flow = flow
        self.rt.state = state
        self.rt.retries = 0
        self.rt.reminded = False
        self.token = _borrow(flow, state)


def step(
    library: FlowLibrary, run: m.RunState | None, event: m.Event, ctx: m.Context
) -> m.StepResult:
    """Apply one event to a patient's run. Raises on a broken flow; the caller rolls back."""
    pre: list[m.Action] = []
    if isinstance(event, m.Start):
        if run is not None and run.status != "ended":
            pre.append(m.FlowEnded(run.flow_id, "interrupted"))
        flow = library.get(event.flow_id)
        run = m.RunState(
            ctx.new_id(), flow.id, flow.version, flow.start, variables=dict(event.variables)
        )
        rt = Runtime(flow, ctx, run)
        rt.actions.extend(pre)
        rt.emit(m.Transition(flow.id, "", flow.start))
        return _drive(library, flow, run, rt, lambda cur: flow.steps[flow.start].enter(rt))
    if run is None or run.status == "ended":
        return m.StepResult(run, ())
    try:
        flow = library.get(run.flow_id, run.flow_version)
    except KeyError as exc:
        raise EngineError(str(exc)) from exc
    rt = Runtime(flow, ctx, run)
    current = flow.steps[run.state]
    if isinstance(event, m.Text):
        if not current.waits:
            raise EngineError(f"{flow.id}.{run.state} is not waiting for input")
        return _drive(
            library, flow, run, rt, lambda cur: current.on_input(rt, event.text, event.payload)
        )
    if run.timeout_at is None or not current.waits:
        return m.StepResult(run, ())
    return _drive(library, flow, run, rt, lambda cur: current.on_timeout(rt))


def _drive(
    library: FlowLibrary,
    flow: CompiledFlow,
    run: m.RunState,
    rt: Runtime,
    first: Callable[[_Cursor], Outcome],
) -> m.StepResult:
    cursor = _Cursor(library, flow, rt)
    stack = list(run.stack)
    try:
        outcome: Outcome = first(cursor)
        for _ in range(MAX_MOVES):
            if isinstance(outcome, Wait):
                return m.StepResult(_waiting(run, cursor, stack, outcome), tuple(rt.actions))
            if isinstance(outcome, Goto):
                cursor.move(outcome.dest)
            elif isinstance(outcome, Call):
                stack.append(m.Frame(cursor.flow.id, cursor.flow.version, rt.state))
                sub = library.get(outcome.flow)
                rt.emit(m.Transition(sub.id, "", sub.start))
                cursor.switch(sub, sub.start)
            elif isinstance(outcome, End):
                rt.emit(m.FlowEnded(cursor.flow.id, outcome.outcome))
                if stack:
                    frame = stack.pop()
                    parent = library.get(frame.flow_id, frame.flow_version)
                    cursor.switch(parent, frame.call_state)
                    call = parent.steps[frame.call_state]
                    dest = call.targets()["return"]
                    cursor.move(dest)
                elif outcome.then:
                    nxt = library.get(outcome.then)
                    rt.variables = {}
                    run = m.RunState(rt.ctx.new_id(), nxt.id, nxt.version, nxt.start)
                    rt.emit(m.Transition(nxt.id, "", nxt.start))
                    cursor.switch(nxt, nxt.start)
                else:
                    ended = run.evolve(
                        flow_id=cursor.flow.id,
                        flow_version=cursor.flow.version,
                        state=rt.state,
                        variables=rt.variables,
                        stack=(),
                        retries=0,
                        reminded=False,
                        status="ended",
                        waiting_since=None,
                        timeout_at=None,
                    )
                    return m.StepResult(ended, tuple(rt.actions))
            outcome = cursor.flow.steps[rt.state].enter(rt)
        raise EngineError(f"{cursor.flow.id}: more than {MAX_MOVES} moves without waiting")
    finally:
        cursor.release()


def _waiting(run: m.RunState, cursor: _Cursor, stack: list[m.Frame], wait: Wait) -> m.RunState:
    rt = cursor.rt
    now = rt.ctx.now
    same_wait = run.status == "waiting" and run.state == rt.state and run.flow_id == cursor.flow.id
    return m.RunState(
        run_id=run.run_id,
        flow_id=cursor.flow.id,
        flow_version=cursor.flow.version,
        state=rt.state,
        variables=rt.variables,
        stack=tuple(stack),
        retries=rt.retries,
        reminded=rt.reminded,
        status="waiting",
        waiting_since=run.waiting_since if same_wait and run.waiting_since else now,
        timeout_at=now + timedelta(hours=wait.timeout_hours) if wait.timeout_hours else None,
    )
