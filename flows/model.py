"""The engine's vocabulary: what goes into a step and what comes out. Pure data, no I/O.

Time, ids and randomness arrive in `Context`, so a recorded conversation replays exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Context:
    now: datetime  # aware UTC
    locale: str
    timezone: str
    new_id: Callable[[], str]
    rng: random.Random
    # Read-only facts that texts and conditions may use: `patient.name`, `site.program`.
    patient: Mapping[str, Any] = field(default_factory=dict)
    site: Mapping[str, Any] = field(default_factory=dict)


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """Start `flow_id` (ending whatever run was active)."""

    flow_id: str
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    """The patient said something (or tapped a button, then `payload` holds its value)."""

    text: str
    payload: str | None = None


@dataclass(frozen=True)
class Timeout:
    """The run's `timeout_at` has passed without an answer."""


Event = Start | Text | Timeout


# --- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    text: str
    choices: tuple[tuple[str, str], ...] = ()  # (label, value) quick replies
    urgent: bool = False
    key: str = ""  # content key, for audit and transcripts


@dataclass(frozen=True)
class Schedule:
    """Ask the scheduler for something later: a daily local time or a one-off instant."""

    kind: str
    local_time: str | None = None  # "HH:MM" patient-local, daily
    at: datetime | None = None  # one-off, aware UTC
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Escalate:
    reason: str
    priority: str = "normal"  # urgent, high, normal
    detail: str = ""


@dataclass(frozen=True)
class RecordAnswer:
    step: str
    variable: str | None
    value: Any
    raw: str


@dataclass(frozen=True)
class RecordMeasure:
    measure: str
    item: int
    value: int
    raw: str | None = None  # the reply, kept when the value was interpreted from it
    interpreted: bool = False  # an unclear PHQ-9 item 9 reply read as positive
    carried_from: str | None = None  # a screener answered just before (PHQ-2 item -> PHQ-9)


@dataclass(frozen=True)
class MeasureScored:
    """A measure was completed: its total and band (items went out as RecordMeasure before)."""

    measure: str
    total: int
    band: str
    positive: bool | None = None  # screeners only
    answers: Mapping[int, int] = field(default_factory=dict)  # item number -> 0-3, scored ones


@dataclass(frozen=True)
class UpdatePatient:
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Transition:
    """A state change, for the audit log."""

    flow_id: str
    source: str
    dest: str


@dataclass(frozen=True)
class FlowEnded:
    flow_id: str
    outcome: str


Action = (
    Send
    | Schedule
    | Escalate
    | RecordAnswer
    | RecordMeasure
    | MeasureScored
    | UpdatePatient
    | Transition
    | FlowEnded
)


# --- run state --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """Where to return to in the calling flow when a subflow ends."""

    flow_id: str
    flow_version: str
    call_state: str  # the subflow step; its `return` edge says where to go next


@dataclass(frozen=True)
class RunState:
    run_id: str  # new for every top-level run (Start, or a flow's `then`)
    flow_id: str
    flow_version: str
    state: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    stack: tuple[Frame, ...] = ()
    retries: int = 0
    reminded: bool = False
    status: str = "active"  # active (moving), waiting (for the patient), ended
    waiting_since: datetime | None = None
    timeout_at: datetime | None = None

    def evolve(self, **changes: Any) -> RunState:
        return replace(self, **changes)


@dataclass(frozen=True)
class StepResult:
    run: RunState | None  # None: the patient has no active run (nothing was started)
    actions: tuple[Action, ...]
