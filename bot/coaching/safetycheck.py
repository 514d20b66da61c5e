"""The crisis response and the structured safety check that follows every disclosure.

`respond` sends the help lines first, opens the escalation and asks the first screener question;
`reply` takes the patient's next messages as answers (bot/coaching/screener.py decides what they
mean); `finish` tells the patient truthfully who knows, puts the emergency number first when they
are in danger, and leaves the answers on the escalation for the coach.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.actions import Turn
from bot.coaching import crisis, safetystate, screener
from flows.safety import RiskAssessment
from flows.texts import text
from storage.models import Escalation, Message

# Outcomes that keep the bot holding for a coach and make the escalation urgent. A check the
# patient stops answering counts as serious: silence after a disclosure is not "safe".
_SERIOUS = frozenset({"in_danger", "high", "moderate", "unanswered"})
# How long a safety question waits for its answer before the check counts as unanswered.
ANSWER_WITHIN = timedelta(minutes=30)


def active(turn: Turn) -> screener.Check | None:
    raw = safetystate.load(turn.patient).get("check")
    return screener.Check.from_json(raw) if isinstance(raw, dict) else None


def _store(turn: Turn, check: screener.Check | None, escalation_id: int | None = None) -> None:
    state = safetystate.load(turn.patient)
    turn.patient.safety_check_due = None if check is None else turn.now + ANSWER_WITHIN
    if check is None:
        state.pop("check", None)
    else:
        previous = state.get("check") or {}
        keep = escalation_id if escalation_id is not None else previous.get("escalation_id")
        state["check"] = {**check.to_json(), "escalation_id": keep}
    safetystate.save(turn.patient, state)


async def _escalation(turn: Turn) -> Escalation | None:
    raw = safetystate.load(turn.patient).get("check") or {}
    esc_id = raw.get("escalation_id")
    return await turn.session.get(Escalation, esc_id) if isinstance(esc_id, int) else None


async def _ask(turn: Turn, step: screener.Step, *, prefix: str = "") -> None:
    question = text(f"coaching.check_{step}", turn.patient.locale)
    await turn.send(f"{prefix} {question}".strip(), urgent=True)
    await turn.log("safety_check_sent", {"step": step})


async def respond(
    turn: Turn,
    level: str,
    source: str,
    detail: str,
    *,
    categories: Sequence[str] = (),
    safeguarding: bool = False,
) -> Escalation | None:
    """The crisis response for a new disclosure at `level` ("risk" or "concern").

    Both levels: the help lines at once, an escalation (urgent for risk, high for concern) and
    the structured safety check. Risk also holds the bot for a coach (`bot_paused`).
    """
    res = await crisis.resources(turn)
    await crisis.send_resources(turn, res, level, source)
    await turn.log(
        "risk_detected",
        {"level": level, "source": source, "categories": list(categories), "detail": detail},
    )
    if level == "risk":
        turn.patient.bot_paused = True
    esc = await crisis.escalate(turn, level, detail, safeguarding=safeguarding)
    await start(turn, level, esc)
    return esc


async def start(turn: Turn, level: str, esc: Escalation | None) -> None:
    check = screener.Check(level=level)
    _store(turn, check, esc.id if esc is not None else None)
    # After a clear disclosure the question stands alone; a concern gets a gentler opening.
    prefix = text("coaching.check_intro", turn.patient.locale) if level != "risk" else ""
    await _ask(turn, check.step, prefix=prefix)


async def repeat(turn: Turn, check: screener.Check) -> None:
    """Ask the open question again (after SOS or PLAN answered in between)."""
    await _ask(turn, check.step)


async def reply(turn: Turn, message: Message, check: screener.Check, found: RiskAssessment) -> None:
    """One patient message while the check is open: an answer, or a re-ask."""
    if found.urgent:
        # New risk words inside an answer: the coach hears of it at once (the escalation folds
        # and rises to urgent), help lines again unless they just went out.
        level = "risk" if found.level == "risk" else check.level
        if not crisis.resources_recent(turn):
            await crisis.send_resources(turn, await crisis.resources(turn), level, "message")
        await turn.log(
            "risk_detected",
            {"level": level, "source": "message", "categories": crisis.categories(found)},
        )
        if level == "risk":
            turn.patient.bot_paused = True
            check.level = "risk"
        await crisis.escalate(
            turn, level, crisis.describe(found), safeguarding=crisis.safeguarding(found)
        )
    at = turn.now.isoformat()
    result = screener.answer(check, message.body, at=at, risk_in_text=found.urgent)
    if result.recorded is not None:
        await turn.log(
            "safety_check_answered",
            {**result.recorded, "answer": message.body[:200]},
        )
    if result.reask:
        _store(turn, check)
        await turn.log("safety_check_reasked", {"step": check.step})
        await _ask(turn, check.step, prefix=text("coaching.check_reask", turn.patient.locale))
        return
    if result.next_step is not None:
        _store(turn, check)
        await _ask(turn, result.next_step)
        return
    assert result.outcome is not None
    await finish(turn, check, result.outcome)


async def expire(turn: Turn) -> None:
    """The patient stopped answering: the coach is asked to reach out (urgent), never a pass."""
    check = active(turn)
    turn.patient.safety_check_due = None
    if check is not None:
        await turn.log("safety_check_unanswered", {"step": check.step})
        await finish(turn, check, "unanswered")


async def finish(turn: Turn, check: screener.Check, outcome: str) -> None:
    esc = await _escalation(turn)
    _store(turn, None)
    await turn.log("safety_check_done", {"outcome": outcome, "level": check.level})
    if outcome in _SERIOUS:
        turn.patient.bot_paused = True
        esc = await crisis.escalate(turn, "risk", f"safety check: {outcome}") or esc
    if esc is not None:
        screening: dict[str, Any] = {"outcome": outcome, "answers": check.answers}
        esc.screening = screening
    locale = turn.patient.locale
    who = await crisis.told(turn, esc)
    told = crisis.told_sentence(who, locale)
    res = await crisis.resources(turn)
    if outcome == "in_danger":
        # The emergency number first, then who knows, then the help lines.
        first = res.emergency_text or text("coaching.check_in_danger", locale)
        await turn.send(f"{first} {told}\n{res.lines}", urgent=True)
    elif outcome == "unanswered":
        await turn.send(
            f"{text('coaching.check_unanswered', locale)} {told}\n{res.message}", urgent=True
        )
    elif outcome in _SERIOUS or who == "nobody":
        opening = "check_done_serious" if outcome in _SERIOUS else "check_done_low"
        await turn.send(f"{text('coaching.' + opening, locale)} {told}\n{res.message}", urgent=True)
    else:
        await turn.send(
            f"{text('coaching.check_done_low', locale)} {told} {text('coaching.sos_hint', locale)}"
        )
    plan = await crisis.plan_text(turn)
    if plan is not None and outcome in _SERIOUS:
        await turn.send(plan, urgent=True)
        await turn.log("safety_plan_sent", {})


async def cancel(turn: Turn, why: str) -> None:
    """A coach took the conversation over: their words replace the bot's questions."""
    check = active(turn)
    if check is None:
        return
    esc = await _escalation(turn)
    if esc is not None:
        esc.screening = {"outcome": "interrupted", "answers": check.answers}
    _store(turn, None)
    await turn.log("safety_check_cancelled", {"why": why, "step": check.step})
