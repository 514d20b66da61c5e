"""What the pipeline does with each action the engine returns.

Handlers are looked up by action type. The table below is the default; the area that owns an
action replaces its handler once (scheduling owns `Schedule`, coaching owns `Escalate`), and
other areas wrap a handler (`ActionHandlers.wrap`): the wrapper gets the handler it wraps and
decides when to call it, so every layer is visible where it is installed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.facts import is_fact, load_facts, set_facts
from bot.scheduling.timecalc import validate_timezone
from flows import model as m
from flows.safety.country import normalize_country
from storage import repo
from storage.models import ChannelIdentity, Patient
from storage.writes import buffer_of

if TYPE_CHECKING:
    from bot.settings import Settings
    from flows.library import FlowLibrary

URGENT_PRIORITY = 10
# Patient fields a flow may change, and nothing else.
UPDATABLE = {
    "display_name",
    "checkin_time",
    "consent_given",
    "consent_text",
    "country",
    "locale",
    "timezone",
    "timezone_confirmed",
}


class Engine(Protocol):
    """What a turn may ask of the pipeline running it (bot/pipeline.py implements it)."""

    settings: Settings
    library: FlowLibrary
    handlers: ActionHandlers

    async def advance(self, turn: Turn, event: m.Event) -> m.StepResult: ...


@dataclass
class Turn:
    """One unit of work for one patient inside one transaction."""

    pipeline: Engine
    session: AsyncSession
    patient: Patient
    now: datetime
    channel: str | None  # the channel the triggering message came in on, if any
    _identity: ChannelIdentity | None = field(default=None, repr=False)
    # Risk escalations a step raised: re-applied on their own if the rest of the step fails.
    risk_actions: list[m.Escalate] = field(default_factory=list, repr=False)
    # The safety layer answered this message itself; the flow engine must not see it.
    held: bool = False
    # The safety layer runs an exercise (grounding, breathing) while the bot holds for a coach.
    crisis_safe: bool = False

    async def identity(self) -> ChannelIdentity | None:
        if self._identity is None:
            self._identity = await repo.primary_identity(self.session, self.patient.id)
        return self._identity

    async def send(
        self, text: str, *, urgent: bool = False, choices: list[Any] | None = None
    ) -> bool:
        """Queue a message on the patient's channel; False when they have no channel."""
        identity = await self.identity()
        if identity is None:
            return False
        buffer = buffer_of(self.session)
        if buffer is not None:  # the lean inbound path: written in one batch at the end
            priority = URGENT_PRIORITY if urgent else 0
            buffer.send(
                self.patient.id,
                identity.channel,
                identity.address,
                text,
                self.now,
                choices or [],
                priority,
            )
            return True
        await repo.enqueue(
            self.session,
            self.patient.id,
            identity.channel,
            identity.address,
            text,
            self.now,
            choices=choices,
            priority=URGENT_PRIORITY if urgent else 0,
            flush=False,
        )
        return True

    async def log(
        self, kind: str, data: dict[str, Any], flow: tuple[str, str] | None = None
    ) -> None:
        await repo.log(
            self.session,
            self.now,
            kind,
            self.patient.id,
            data,
            flow_id=flow[0] if flow else None,
            flow_version=flow[1] if flow else None,
        )


Handler = Callable[[Turn, Any], Awaitable[None]]
# A layer over a handler: (turn, action, the handler it wraps).
Wrapper = Callable[[Turn, Any, Handler], Awaitable[None]]


async def _send(turn: Turn, action: m.Send) -> None:
    choices = [{"label": label, "value": value} for label, value in action.choices]
    await turn.send(action.text, urgent=action.urgent, choices=choices)
    await turn.log("message_queued", {"key": action.key, "urgent": action.urgent})


async def _update_patient(turn: Turn, action: m.UpdatePatient) -> None:
    patient = turn.patient
    changed = {}
    facts = {k: v for k, v in action.fields.items() if k not in UPDATABLE and is_fact(k)}
    if facts:
        await set_facts(turn.session, patient.id, facts, turn.now)
        changed.update(facts)
    for name, value in action.fields.items():
        if name in facts:
            continue
        if name not in UPDATABLE:
            raise ValueError(f"a flow may not change patient field {name!r}")
        if name == "timezone":
            value = validate_timezone(str(value))
        if name == "country":
            value = normalize_country(value)  # an unmappable answer keeps no stated country
        setattr(patient, name, value)
        changed[name] = value if name != "consent_text" else "(recorded)"
    if "consent_given" in action.fields:
        patient.consent_at = turn.now
        patient.consent_method = f"chat:{turn.channel or 'unknown'}"
        await turn.log("consent", {"given": bool(action.fields["consent_given"])})
    await turn.log("patient_updated", {"fields": sorted(changed)})


async def _transition(turn: Turn, action: m.Transition) -> None:
    await turn.log("transition", {"from": action.source, "to": action.dest}, (action.flow_id, ""))


async def _answer(turn: Turn, action: m.RecordAnswer) -> None:
    await turn.log(
        "answer", {"step": action.step, "variable": action.variable, "value": action.value}
    )


async def _measure(turn: Turn, action: m.RecordMeasure) -> None:
    data: dict[str, Any] = {"measure": action.measure, "item": action.item, "value": action.value}
    if action.interpreted:
        data.update(interpreted=True, raw=action.raw)
    await turn.log("measure", data)


async def _measure_total(turn: Turn, action: m.MeasureScored) -> None:
    # One event per completed measure: the console plots trends from `measure_total` events.
    data = {"measure": action.measure, "total": action.total, "band": action.band}
    if action.positive is not None:
        data["positive"] = action.positive
    await turn.log("measure_total", data)
    last = dict((await load_facts(turn.session, turn.patient.id)).get("last_scores") or {})
    last[action.measure] = action.total
    await set_facts(turn.session, turn.patient.id, {"last_scores": last}, turn.now)


async def _flow_ended(turn: Turn, action: m.FlowEnded) -> None:
    await turn.log("flow_ended", {"outcome": action.outcome}, (action.flow_id, ""))


async def _schedule_requested(turn: Turn, action: m.Schedule) -> None:
    at = action.at.isoformat() if action.at else None
    data = {"kind": action.kind, "local_time": action.local_time, "at": at, **dict(action.data)}
    await turn.log("schedule_requested", data)


async def _escalation_requested(turn: Turn, action: m.Escalate) -> None:
    await turn.log("escalation_requested", {"reason": action.reason, "priority": action.priority})


class ActionHandlers:
    def __init__(self) -> None:
        self._handlers: dict[type, Handler] = {
            m.Send: _send,
            m.UpdatePatient: _update_patient,
            m.Transition: _transition,
            m.RecordAnswer: _answer,
            m.RecordMeasure: _measure,
            m.MeasureScored: _measure_total,
            m.FlowEnded: _flow_ended,
            m.Schedule: _schedule_requested,
            m.Escalate: _escalation_requested,
        }

    def register(self, action_type: type, handler: Handler) -> None:
        """Replace the default handler: only the area that owns `action_type` does this."""
        self._handlers[action_type] = handler

    def wrap(self, action_type: type, wrapper: Wrapper) -> None:
        """Layer `wrapper` over the current handler; it receives that handler to call."""
        inner = self._handlers[action_type]

        async def wrapped(turn: Turn, action: Any) -> None:
            await wrapper(turn, action, inner)

        self._handlers[action_type] = wrapped

    async def handle(self, turn: Turn, action: m.Action) -> None:
        await self._handlers[type(action)](turn, action)
