"""While the bot holds a patient for a coach after a disclosure: never silence.

Each message gets a short acknowledgement (at most one per ACK_EVERY) that says truthfully who
has been told and how to reach help; SOS, the safety plan, grounding and slow breathing stay
reachable (by keyword or from a short crisis menu). Nothing else of the program runs until a
coach hands the conversation back. Keywords (SOS, PLAN) work the same outside a hold.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.actions import Turn
from bot.coaching import crisis, escalations, safetystate
from flows import model as m
from flows.answers import fold
from flows.texts import text
from storage.models import Escalation, FlowRun, Message
from storage.statuses import RunStatus

ACK_EVERY = timedelta(minutes=15)
MENU_OPEN_FOR = timedelta(minutes=30)
SOS_WORDS = {"sos", "help lines", "helplines", "help line", "crisis", "lineas de ayuda", "auxilio"}
PLAN_WORDS = {"plan", "my plan", "safety plan", "mi plan", "plan de seguridad"}
MENU_WORDS = {"menu", "menu please", "show menu", "options", "opciones", "ver menu", "?"}
# Exercises a patient may run while held, by keyword; the crisis menu lists them in this order.
EXERCISES = {
    "anx_grounding": {"calm", "ground", "grounding", "calma", "calmarme", "5 4 3 2 1"},
    "anx_breathing": {"breathe", "breathing", "breath", "respirar", "respiracion", "respira"},
}
SAFETY_PLAN_FLOW = "safety_plan"


async def sos(turn: Turn) -> None:
    """Help lines always, and the patient's plan when they have one."""
    res = await crisis.resources(turn)
    plan = await crisis.plan_text(turn)
    await turn.send(res.message, urgent=True)
    if plan is not None:
        await turn.send(plan, urgent=True)
    else:
        hint = "no_plan_held" if turn.patient.bot_paused else "no_plan_yet"
        await turn.send(text(f"coaching.{hint}", turn.patient.locale), urgent=True)
    await turn.log("sos_sent", {"plan": plan is not None})


async def plan(turn: Turn, *, may_start: bool = True) -> None:
    body = await crisis.plan_text(turn)
    if body is not None:
        await turn.send(body, urgent=True)
        await turn.log("safety_plan_sent", {})
        return
    library = turn.pipeline.library
    if not may_start or turn.patient.bot_paused or SAFETY_PLAN_FLOW not in library.current:
        await turn.send(text("coaching.no_plan_held", turn.patient.locale), urgent=True)
        return
    await turn.pipeline.advance(turn, m.Start(SAFETY_PLAN_FLOW))


async def keyword(turn: Turn, message: Message, *, may_start: bool = True) -> bool:
    """SOS and PLAN, in any state but a coach's takeover; `may_start`: PLAN may start the
    safety plan flow when there is no plan yet."""
    said = fold(message.body or "")
    if said in SOS_WORDS:
        await sos(turn)
        return True
    if said in PLAN_WORDS:
        await plan(turn, may_start=may_start)
        return True
    return False


async def _risk_escalation(turn: Turn) -> Escalation | None:
    for esc in await escalations.unresolved_for(turn.session, turn.patient.id):
        if esc.reason == "risk":
            return esc
    return None


async def _exercise(turn: Turn, flow_id: str) -> None:
    if flow_id not in turn.pipeline.library.current:
        return
    turn.crisis_safe = True
    await turn.log("held_exercise", {"flow": flow_id})
    await turn.pipeline.advance(turn, m.Start(flow_id))


async def _running_exercise(turn: Turn) -> bool:
    flow_id = await turn.session.scalar(
        select(FlowRun.flow_id)
        .where(FlowRun.patient_id == turn.patient.id, FlowRun.status == RunStatus.WAITING)
        .order_by(FlowRun.id.desc())
        .limit(1)
    )
    return flow_id in EXERCISES


async def on_message(turn: Turn, message: Message) -> None:
    """A message from a patient held for a coach (no takeover, no open safety check)."""
    said = fold(message.body or "")
    locale = turn.patient.locale
    state = safetystate.load(turn.patient)
    if said in MENU_WORDS:
        await turn.send(text("coaching.crisis_menu", locale))
        safetystate.stamp(turn.patient, "menu_at", turn.now)
        await turn.log("crisis_menu_shown", {})
        return
    if safetystate.within(state, "menu_at", turn.now, MENU_OPEN_FOR) and said in {"1", "2", "3"}:
        state.pop("menu_at", None)
        safetystate.save(turn.patient, state)
        if said == "1":
            await sos(turn)
        else:
            await _exercise(turn, list(EXERCISES)[int(said) - 2])
        return
    for flow_id, words in EXERCISES.items():
        if said in words:
            await _exercise(turn, flow_id)
            return
    if await _running_exercise(turn):
        turn.crisis_safe = True
        await turn.pipeline.advance(turn, m.Text(message.body, message.payload))
        return
    if safetystate.within(state, "ack_at", turn.now, ACK_EVERY):
        await turn.log("held_ack_skipped", {"message_id": message.id})
        return
    who = await crisis.told(turn, await _risk_escalation(turn))
    menu = text("coaching.held_ack_menu", locale)
    if who == "nobody":
        res = await crisis.resources(turn)
        body = f"{text('coaching.held_ack_nobody', locale)}\n{res.message}\n{menu}"
    else:
        body = f"{text('coaching.held_ack', locale)} {crisis.told_sentence(who, locale)} {menu}"
    await turn.send(body, urgent=True)
    safetystate.stamp(turn.patient, "ack_at", turn.now)
    await turn.log("held_ack_sent", {"told": who})
