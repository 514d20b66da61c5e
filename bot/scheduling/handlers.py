"""The scheduler's hooks into the pipeline: the `Schedule` action handler, the commands
interceptor ("time 8am", "hora 8", "pause 7", "pausa 7", "resume", "reanudar") and the time-zone
guess from a new SMS patient's phone number (confirmed in onboarding, see `zones`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import mbc
from bot.actions import Handler, Turn
from bot.chain import Result
from bot.scheduling import control, measures, store, zones
from flows import model as m
from flows.commands import Pause, Resume, SetCheckinTime, parse_command
from flows.texts import text
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
        if action.kind == control.CHECKIN:  # the measure cadence starts with the check-ins
            await measures.ensure(turn.session, turn.patient, turn.now, settings)
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
    zone, confirmed = zones.guess(identity.address, fallback, turn.now)
    if zone != patient.timezone:
        settings = turn.pipeline.settings
        await control.set_timezone(
            turn.session, patient, zone, turn.now, settings, confirmed=None, by="guess"
        )
    patient.timezone_confirmed = confirmed
    await turn.log("timezone_guessed", {"zone": zone, "confirmed": confirmed})


async def zone_update(turn: Turn, action: m.UpdatePatient) -> None:
    """Before a flow's `update_patient` is applied: a new `timezone` is validated and re-arms the
    patient's daily schedules in it."""
    zone = action.fields.get("timezone")
    if zone is not None and zone != turn.patient.timezone:
        confirmed = action.fields.get("timezone_confirmed")
        await control.set_timezone(
            turn.session,
            turn.patient,
            str(zone),
            turn.now,
            turn.pipeline.settings,
            confirmed=None if confirmed is None else bool(confirmed),
        )


async def commands(turn: Turn, message: Message) -> Result:
    """Handle a scheduling command; anything else goes on to the flows."""
    await guess_timezone(turn)
    command = parse_command(message.body or "")
    patient = turn.patient
    if command is None or patient.status not in control.SCHEDULABLE:
        return Result.CONTINUE  # opted out or discharged: other areas answer them
    if patient.consent_given is not True or not patient.checkin_time:
        return Result.CONTINUE  # not onboarded yet: the onboarding flow reads times itself
    settings = turn.pipeline.settings
    locale = patient.locale
    if isinstance(command, SetCheckinTime):
        await control.set_checkin_time(turn.session, patient, command.at, turn.now, settings)
        key = "time_set_quiet" if control.in_quiet_hours(command.at, settings) else "time_set"
        reply = text(
            f"scheduling.{key}",
            locale,
            time=patient.checkin_time,
            quiet_start=settings.quiet_hours_start,
            quiet_end=settings.quiet_hours_end,
        )
    elif isinstance(command, Pause):
        await control.pause(turn.session, patient, command.days, turn.now)
        reply = (
            text("scheduling.paused_days", locale, days=command.days)
            if command.days
            else text("scheduling.paused_open", locale)
        )
    else:
        assert isinstance(command, Resume)
        resumed = await control.resume(turn.session, patient, turn.now)
        reply = text(
            "scheduling.resumed" if resumed else "scheduling.not_paused",
            locale,
            time=patient.checkin_time,
        )
    await turn.send(reply)  # a reply to the patient's own message: exempt from quiet hours
    await turn.log("message_queued", {"key": f"scheduling.{type(command).__name__}"})
    return Result.HANDLED


def install(pipeline: Pipeline) -> None:
    """Register the Schedule and UpdatePatient handlers and the time-zone facts on `pipeline`
    (its `commands` link is registered with the others in bot/service.py)."""

    async def update_with_zone(turn: Turn, action: m.UpdatePatient, update: Handler) -> None:
        await zone_update(turn, action)
        await update(turn, action)

    mbc.install(pipeline)  # measure history, outcomes, non-response (with the cadence)
    pipeline.handlers.register(m.Schedule, handle_schedule)
    pipeline.handlers.wrap(m.UpdatePatient, update_with_zone)
    pipeline.fact_providers.append(zones.timezone_facts)
