"""The scheduler's hooks into the pipeline: the `Schedule` action handler, the commands
interceptor ("time 8am", "hora 8", "pause 7", "pausa 7", "resume", "reanudar") and the time-zone
guess from a new SMS patient's phone number."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.actions import Turn
from bot.scheduling import control, store, texts
from bot.scheduling.timecalc import default_timezone
from flows import model as m
from flows.commands import Pause, Resume, SetCheckinTime, parse_command
from storage.models import Message

if TYPE_CHECKING:
    from bot.pipeline import Pipeline


async def handle_schedule(turn: Turn, action: m.Schedule) -> None:
    """Store a flow's Schedule action (see the contract in `bot.scheduling`)."""
    settings = turn.pipeline.settings
    data = dict(action.data)
    if data.get("cancel"):
        key = f"{action.kind}:{data['key']}" if "key" in data else action.kind
        cancelled = await store.cancel(turn.session, turn.patient.id, key, turn.now)
        await turn.log("schedule_cancelled", {"key": key, "rows": cancelled})
        return
    if action.local_time:
        item = await store.set_daily(
            turn.session, turn.patient, action.kind, action.local_time, data, turn.now, settings
        )
    elif action.at is not None:
        item = await store.add_once(
            turn.session, turn.patient, action.kind, action.at, data, turn.now, settings
        )
    else:
        raise ValueError(f"schedule {action.kind!r} needs local_time or at")
    at = item.next_fire_at.isoformat() if item.next_fire_at else None
    await turn.log("schedule_set", {"kind": action.kind, "key": item.key, "next_fire_at": at})


async def guess_timezone(turn: Turn) -> None:
    """Set a new SMS patient's zone from their number, flagged when it needs confirming."""
    patient = turn.patient
    if patient.timezone_confirmed is not None:
        return
    identity = await turn.identity()
    if identity is None or not identity.address.startswith("+"):
        return
    fallback = turn.pipeline.settings.default_timezone
    zone, needs_confirmation = default_timezone(identity.address, fallback)
    patient.timezone, patient.timezone_confirmed = zone, not needs_confirmation
    await turn.log("timezone_guessed", {"zone": zone, "confirmed": not needs_confirmation})


async def commands(turn: Turn, message: Message) -> bool:
    """Handle a scheduling command; anything else goes on to the flows."""
    await guess_timezone(turn)
    command = parse_command(message.body or "")
    patient = turn.patient
    if command is None or patient.status not in {"active", "paused"}:
        return False  # opted out or discharged: other areas answer them
    if patient.consent_given is not True or not patient.checkin_time:
        return False  # not onboarded yet: the onboarding flow reads times itself
    settings = turn.pipeline.settings
    locale = patient.locale
    if isinstance(command, SetCheckinTime):
        await control.set_checkin_time(turn.session, patient, command.at, turn.now, settings)
        key = "time_set_quiet" if control.in_quiet_hours(command.at, settings) else "time_set"
        reply = texts.text(
            key,
            locale,
            time=patient.checkin_time,
            quiet_start=settings.quiet_hours_start,
            quiet_end=settings.quiet_hours_end,
        )
    elif isinstance(command, Pause):
        await control.pause(turn.session, patient, command.days, turn.now)
        reply = (
            texts.text("paused_days", locale, days=command.days)
            if command.days
            else texts.text("paused_open", locale)
        )
    else:
        assert isinstance(command, Resume)
        resumed = await control.resume(turn.session, patient, turn.now)
        reply = texts.text(
            "resumed" if resumed else "not_paused", locale, time=patient.checkin_time
        )
    await turn.send(reply)  # a reply to the patient's own message: exempt from quiet hours
    await turn.log("message_queued", {"key": f"scheduling.{type(command).__name__}"})
    return True


def install(pipeline: Pipeline) -> None:
    """Register the Schedule handler and the commands interceptor on `pipeline`."""
    from bot.pipeline import ORDER_COMMANDS

    pipeline.handlers.register(m.Schedule, handle_schedule)
    pipeline.add_interceptor(commands, ORDER_COMMANDS)
