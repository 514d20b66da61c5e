"""What every step type shares: its YAML schema (a pydantic model), the outcomes it can return,
and the runtime it acts through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator

from flows import model as m
from flows.texts import evaluate, render


class FlowView(Protocol):
    """What a step sees of the compiled flow it belongs to (flows/compiler.py)."""

    id: str

    def text(self, key: str, locale: str) -> str: ...


# Patient columns as templates know them: `patient.name` reads `display_name`.
PATIENT_ALIASES = {"display_name": "name"}


@dataclass(frozen=True)
class Goto:
    dest: str


@dataclass(frozen=True)
class Wait:
    """Stay in this step until the patient answers (or the timeout fires)."""

    timeout_hours: float | None = None


@dataclass(frozen=True)
class End:
    outcome: str
    then: str | None = None  # a flow to start straight after


@dataclass(frozen=True)
class Call:
    """Run `flow` as a subflow, then come back to `return_state`."""

    flow: str
    return_state: str


Outcome = Goto | Wait | End | Call


class Runtime:
    """The mutable side of one engine step: variables, actions emitted, retry counters."""

    def __init__(self, flow: FlowView, ctx: m.Context, run: m.RunState) -> None:
        self.flow = flow
        self.ctx = ctx
        self.state = run.state
        self.variables: dict[str, Any] = dict(run.variables)
        self.retries = run.retries
        self.reminded = run.reminded
        self.actions: list[m.Action] = []
        # The patient as this step sees them, including updates the step itself made.
        self.patient: dict[str, Any] = dict(ctx.patient)

    def scope(self, **extra: Any) -> dict[str, Any]:
        return {
            **self.variables,
            **extra,
            "patient": self.patient,
            "site": dict(self.ctx.site),
            "text": self.text,
            "today": self.today(),
        }

    def today(self) -> str:
        """The patient's local date (ISO), for records a flow keeps across days."""
        return self.ctx.now.astimezone(ZoneInfo(self.ctx.timezone)).date().isoformat()

    def text(self, key: str, **extra: Any) -> str:
        return render(self.flow.text(key, self.ctx.locale), self.scope(**extra))

    def value(self, expression: str) -> Any:
        return evaluate(expression, self.scope())

    def send(self, key: str, *, urgent: bool = False) -> None:
        self.emit(m.Send(self.text(key), urgent=urgent, key=f"{self.flow.id}.{key}"))

    def emit(self, action: m.Action) -> None:
        if isinstance(action, m.UpdatePatient):
            for name, value in action.fields.items():
                self.patient[PATIENT_ALIASES.get(name, name)] = value
        self.actions.append(action)


class Timeout(BaseModel):
    """`timeout: {after_hours: 24, remind: some_text, then: state}`; `after_hours` may also be an
    expression ("(patient.anx_worry_minutes or 30) / 60"): a wait as long as the patient chose."""

    model_config = ConfigDict(extra="forbid")
    after_hours: float | str
    remind: str | None = None
    then: str

    @field_validator("after_hours")
    @classmethod
    def _positive(cls, value: float | str) -> float | str:
        if isinstance(value, int | float) and value <= 0:
            raise ValueError("after_hours must be above 0")
        return value

    def hours(self, rt: Runtime) -> float:
        if not isinstance(self.after_hours, str):
            return float(self.after_hours)
        value = rt.value(self.after_hours)
        if not isinstance(value, int | float) or value <= 0:
            raise ValueError(f"timeout {self.after_hours!r} gave {value!r}, not hours above 0")
        return float(value)


def wait_for(timeout: Timeout | None, rt: Runtime) -> Wait:
    """Wait for the patient, until the step's timeout (if it has one)."""
    return Wait(timeout.hours(rt) if timeout else None)


def timeout_expressions(timeout: Timeout | None) -> list[str]:
    return [timeout.after_hours] if timeout and isinstance(timeout.after_hours, str) else []


class Step(BaseModel):
    """Base of every step type. Subclasses set `type` to a Literal and register themselves."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[str]
    waits: ClassVar[bool] = False

    def targets(self) -> dict[str, str]:
        """Edge label -> destination state, for validation and diagrams."""
        return {}

    def text_keys(self) -> list[str]:
        return []

    def expressions(self) -> list[str]:
        return []

    def templates(self) -> list[str]:
        """Inline templates (not text keys) whose variables `flows check` verifies."""
        return []

    def sets(self) -> list[str]:
        """Variables this step assigns."""
        return []

    def subflows(self) -> list[str]:
        return []

    def enter(self, rt: Runtime) -> Outcome:
        raise NotImplementedError

    def on_input(self, rt: Runtime, text: str, payload: str | None) -> Outcome:
        raise NotImplementedError(f"{self.kind} steps do not wait for input")

    def on_timeout(self, rt: Runtime) -> Outcome:
        raise NotImplementedError(f"{self.kind} steps do not wait")


REGISTRY: dict[str, type[Step]] = {}


def register(cls: type[Step]) -> type[Step]:
    REGISTRY[cls.kind] = cls
    return cls


# Said once when a question gives up after its last unclear answer, by every step that asks
# (question, choose, measure): the patient always hears that we moved on, never a silent skip.
GIVE_UP = "common.unclear_fallback"


def give_up(rt: Runtime) -> None:
    rt.send(GIVE_UP)


def timeout_targets(timeout: Timeout | None) -> dict[str, str]:
    return {"timeout": timeout.then} if timeout else {}


def handle_timeout(timeout: Timeout | None, rt: Runtime) -> Outcome:
    """One gentle reminder, then the wait closes gracefully."""
    if timeout is None:
        return Wait()
    if timeout.remind and not rt.reminded:
        rt.reminded = True
        rt.send(timeout.remind)
        return wait_for(timeout, rt)
    return Goto(timeout.then)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)
