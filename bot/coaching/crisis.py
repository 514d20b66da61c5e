"""The crisis response: the patient's help lines at once, then the structured safety check and
an escalation to a person; what the patient is told about who knows is always the truth.

Order matters: the resources are queued (urgent, ahead of anything else) before anything that
could fail, and the escalation gets a savepoint of its own so a fault there never takes the
resources back (shared/CLINICAL.md: resources go out unconditionally).
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select

from bot.actions import Turn
from bot.coaching import escalations, safetystate
from bot.coaching.escalations import Alerted
from bot.country import resources_for
from flows.safety import CrisisResources, RiskAssessment
from flows.texts import text
from storage.models import Escalation, SafetyPlan

log = structlog.get_logger("tandem.coaching.crisis")

# Stanley & Brown's safety plan, in its order, plus the reasons for living it ends with.
PLAN_SECTIONS = (
    "warning_signs",
    "coping",
    "places",
    "people",
    "professionals",
    "environment",
    "reasons",
)
# Resources are sent again on a new disclosure unless they went out this recently.
RESOURCES_REPEAT_AFTER = timedelta(minutes=30)


async def resources(turn: Turn) -> CrisisResources:
    """Help lines for where the patient is, in their language (bot/country.py); never raises."""
    return await resources_for(turn)


async def plan_text(turn: Turn) -> str | None:
    plan = (
        await turn.session.execute(
            select(SafetyPlan).where(SafetyPlan.patient_id == turn.patient.id)
        )
    ).scalar_one_or_none()
    if plan is None or not any(plan.sections.get(name) for name in PLAN_SECTIONS):
        return None
    locale = turn.patient.locale
    lines = [text("coaching.plan_title", locale)]
    for name in PLAN_SECTIONS:
        value = plan.sections.get(name)
        if value:
            lines.append(f"{text('coaching.plan_' + name, locale)}: {value}")
    return "\n".join(lines)


async def told(turn: Turn, esc: Escalation | None) -> Alerted:
    """Who was actually alerted about `esc`: never claim more than happened."""
    return "nobody" if esc is None else await escalations.alerted(turn.session, esc)


def told_sentence(who: Alerted, locale: str) -> str:
    return escalations.told_text(who, locale)


def categories(result: RiskAssessment) -> list[str]:
    return list(result.categories)


def safeguarding(result: RiskAssessment) -> bool:
    """A disclosure of abuse of a minor: the coach gets the program's reporting guidance."""
    return result.safeguarding


def describe(result: RiskAssessment) -> str:
    """What a coach sees on the escalation: each category with the patient's words that raised
    it (and which layer spoke), e.g. `plan: "tonight's the night"`."""
    parts = []
    for signal in result.signals:
        note = " (negated)" if signal.negated else ""
        source = " [second opinion]" if signal.source == "model" else ""
        evidence = f': "{signal.evidence}"' if signal.evidence else ""
        parts.append(f"{signal.category}{evidence}{note}{source}")
    return "; ".join(parts)


async def send_resources(turn: Turn, res: CrisisResources, level: str, source: str) -> None:
    await turn.send(res.message, urgent=True)
    safetystate.stamp(turn.patient, "resources_at", turn.now)
    await turn.log(
        "crisis_response",
        {
            "level": level,
            "source": source,
            "sent": ["resources"],
            "country": res.country,
            "locale": res.locale,
        },
    )


def resources_recent(turn: Turn) -> bool:
    state = safetystate.load(turn.patient)
    return safetystate.within(state, "resources_at", turn.now, RESOURCES_REPEAT_AFTER)


async def escalate(
    turn: Turn,
    level: str,
    detail: str,
    *,
    safeguarding: bool = False,
) -> Escalation | None:
    """Open (or fold into) the patient's risk escalation; None when that failed."""
    priority = "urgent" if level == "risk" else "high"
    try:
        async with turn.session.begin_nested():
            return await escalations.open_escalation(
                turn.session,
                turn.patient.id,
                "risk",
                priority,
                detail,
                turn.now,
                safeguarding=safeguarding,
            )
    except Exception:
        log.exception("escalation_failed", patient=turn.patient.id)
        return None


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
