"""The crisis response: resources for the patient's locale and country, the "are you safe right
now" question and their safety plan, all queued urgent (ahead of anything else), then the bot
pauses and an escalation opens. Resources are queued before anything that could fail."""

from __future__ import annotations

from pathlib import Path

import phonenumbers
import structlog
from sqlalchemy import select

from bot.actions import Turn
from bot.coaching import escalations
from bot.coaching.texts import text
from flows.safety import crisis_resources
from storage.models import SafetyPlan

log = structlog.get_logger("tandem.coaching.crisis")

PLAN_SECTIONS = ("warning_signs", "coping", "people", "professionals", "reasons")

_resources_file: Path | None = None


def configure(resources_file: Path | None) -> None:
    global _resources_file
    _resources_file = resources_file


async def patient_country(turn: Turn) -> str | None:
    """The country of the patient's phone number, when they text from one."""
    identity = await turn.identity()
    if identity is None or not identity.address.startswith("+"):
        return None
    try:
        number = phonenumbers.parse(identity.address, None)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code is None:
        return None
    # The main region of the calling code: +44 is GB even for a Guernsey or Jersey number.
    return phonenumbers.region_code_for_country_code(number.country_code)


async def plan_text(turn: Turn) -> str | None:
    plan = (
        await turn.session.execute(
            select(SafetyPlan).where(SafetyPlan.patient_id == turn.patient.id)
        )
    ).scalar_one_or_none()
    if plan is None or not any(plan.sections.get(name) for name in PLAN_SECTIONS):
        return None
    locale = turn.patient.locale
    lines = [text("plan_title", locale)]
    for name in PLAN_SECTIONS:
        value = plan.sections.get(name)
        if value:
            lines.append(f"{text('plan_' + name, locale)}: {value}")
    return "\n".join(lines)


async def respond(turn: Turn, level: str, source: str, detail: str) -> None:
    """Send the crisis response for `level` ("risk" or "possible") and open the escalation.

    "risk": resources, the safety question and the plan; the bot pauses; urgent escalation.
    "possible" (negated or unsure): a check-in with the safety question; high escalation.
    """
    country = await patient_country(turn)
    res = crisis_resources(turn.patient.locale, country, _resources_file)
    sent: list[str] = []
    if level == "risk":
        await turn.send(res.message, urgent=True)
        await turn.send(res.safety_question, urgent=True)
        sent += ["resources", "safety_question"]
        try:
            async with turn.session.begin_nested():
                plan = await plan_text(turn)
                if plan is not None:
                    await turn.send(plan, urgent=True)
                    sent.append("safety_plan")
        except Exception:
            log.exception("safety_plan_failed", patient=turn.patient.id)
        turn.patient.bot_paused = True
    else:
        check = f"{text('possible_check', turn.patient.locale)} {res.safety_question}"
        await turn.send(check, urgent=True)
        sent.append("safety_question")
    await turn.log(
        "crisis_response",
        {
            "level": level,
            "source": source,
            "sent": sent,
            "country": res.country,
            "locale": res.locale,
        },
    )
    await turn.log("safety_check_sent", {"level": level})
    priority = "urgent" if level == "risk" else "high"
    # The escalation gets its own savepoint: if it fails, the resources above still go out.
    try:
        async with turn.session.begin_nested():
            await escalations.open_escalation(
                turn.session, turn.patient.id, "risk", priority, detail, turn.now
            )
    except Exception:
        log.exception("escalation_failed", patient=turn.patient.id)


async def save_plan_section(turn: Turn, section: str, value: str) -> None:
    """Store one answer of the safety plan flow as that section of the patient's plan."""
    plan = await turn.session.get(SafetyPlan, turn.patient.id)
    if plan is None:
        plan = SafetyPlan(
            patient_id=turn.patient.id, sections={}, created_at=turn.now, updated_at=turn.now
        )
        turn.session.add(plan)
    plan.sections = {**plan.sections, section: value}  # a new dict so the JSON change is saved
    plan.updated_at = turn.now
    await turn.session.flush()
    await turn.log("safety_plan_updated", {"section": section})
