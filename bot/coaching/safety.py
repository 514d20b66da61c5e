"""The safety interceptor (ORDER_SAFETY): every inbound message, in every state, is checked for
risk before anything else, and the crisis response is queued at once. The hold interceptor
(ORDER_TAKEOVER) keeps the flow engine away from messages safety answered and from patients whose
bot is paused (a coach's takeover or an open risk response); those messages go to the coach.

Safety never returns "handled": opt-out (ORDER_OPT_OUT) still sees "STOP" in a crisis message,
and the hold interceptor stops the flow engine.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select

from bot.actions import Turn
from bot.coaching import crisis, escalations
from bot.coaching.events import LiveEvent, publish_after_commit
from bot.coaching.texts import text
from flows import model as m
from flows.answers import fold, parse_yes_no
from flows.safety import assess
from storage.models import Event, Message

log = structlog.get_logger("tandem.coaching.safety")

# Whole-message keywords that bring the safety plan back at any time.
PLAN_KEYWORDS = {"sos", "plan", "safety plan", "my plan", "mi plan", "plan de seguridad"}
SAFETY_PLAN_FLOW = "safety_plan"
# An answer to "are you safe right now?" counts as one within this time.
SAFETY_CHECK_WINDOW = timedelta(hours=24)


class SafetyLayer:
    def __init__(self) -> None:
        # Messages safety answered in this process; the hold interceptor (same turn) consumes them.
        self._held: set[int] = set()

    async def intercept(self, turn: Turn, message: Message) -> bool:
        """Check one inbound message; queue the crisis response when it shows risk."""
        result = assess(message.body, turn.patient.locale)
        if result.urgent:
            detail = ", ".join(sorted({s.category for s in result.signals}))
            await crisis.respond(turn, result.level, "message", detail)
            self._held.add(message.id)
            return False
        if result.wants_human:
            await turn.send(text("human_ack", turn.patient.locale), urgent=True)
            await escalations.open_escalation(
                turn.session, turn.patient.id, "human_request", "normal", "", turn.now
            )
            self._held.add(message.id)
            return False
        if await self._safety_answer(turn, message):
            self._held.add(message.id)
            return False
        if fold(message.body) in PLAN_KEYWORDS:
            await self._plan(turn)
            self._held.add(message.id)
        return False

    async def hold(self, turn: Turn, message: Message) -> bool:
        """Keep the flow engine out when safety answered or the bot is paused for this patient."""
        held = message.id in self._held
        self._held.discard(message.id)
        if turn.patient.bot_paused:
            publish_after_commit(
                turn.session,
                LiveEvent("patient_message", turn.now, turn.patient.id, data={"id": message.id}),
            )
            await turn.log("held_for_coach", {"message_id": message.id})
            return True
        return held

    async def _safety_answer(self, turn: Turn, message: Message) -> bool:
        """A yes/no reply to a recent, unanswered safety question."""
        last = (
            await turn.session.execute(
                select(Event.kind)
                .where(
                    Event.patient_id == turn.patient.id,
                    Event.kind.in_(("safety_check_sent", "safety_check_answered")),
                    Event.at >= turn.now - SAFETY_CHECK_WINDOW,
                )
                .order_by(Event.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if last != "safety_check_sent":
            return False
        safe = parse_yes_no(message.body)
        await turn.log("safety_check_answered", {"safe": safe})
        if safe is None:
            return False  # not an answer: the message goes on as usual (and the check is closed)
        if safe:
            await turn.send(text("safe_yes", turn.patient.locale), urgent=True)
            return True
        await turn.send(text("safe_no", turn.patient.locale), urgent=True)
        await crisis.respond(turn, "risk", "safety_check", "not safe right now")
        return True

    async def _plan(self, turn: Turn) -> None:
        plan = await crisis.plan_text(turn)
        if plan is not None:
            await turn.send(plan, urgent=True)
            await turn.log("safety_plan_sent", {})
            return
        library = turn.pipeline.library
        if turn.patient.bot_paused or SAFETY_PLAN_FLOW not in library.current:
            await turn.send(text("no_plan_yet", turn.patient.locale), urgent=True)
            return
        await turn.pipeline.advance(turn, m.Start(SAFETY_PLAN_FLOW))
