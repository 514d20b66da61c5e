"""The safety link (Stage.SAFETY): every inbound message, in every state, is checked for risk
before anything else, and the crisis response is queued at once. The takeover link
(Stage.TAKEOVER) ends the chain for messages safety held and for patients whose bot is paused (a
coach's takeover or a risk hold); those messages go to the coach.

While a coach has taken the conversation over the bot says nothing of its own: no question
(the safety check included) takes the patient's words, and only a new disclosure still sends the
help lines. Safety never answers HANDLED, only HOLD: opt-out (Stage.OPT_OUT) still sees "STOP"
in a crisis message, and the takeover link keeps the flow engine out.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from bot import optout
from bot.actions import Turn
from bot.chain import Result
from bot.coaching import crisis, escalations, held, safetycheck
from bot.coaching.events import LiveEvent, publish_after_commit
from bot.coaching.takeover import open_takeover
from flows.safety import RiskAssessment, assess
from flows.texts import text
from storage.models import Message
from storage.statuses import PatientStatus

log = structlog.get_logger("tandem.coaching.safety")

# Compliance keywords belong to the opt-out interceptor even in the middle of a safety check.
_COMPLIANCE = optout.STOP_WORDS | optout.START_WORDS | optout.HELP_WORDS


def _when(span: timedelta, locale: str) -> str:
    minutes = max(1, round(span.total_seconds() / 60))
    if minutes < 90:
        return text("coaching.within_minutes", locale, n=minutes)
    return text("coaching.within_hours", locale, n=round(minutes / 60))


class SafetyLayer:
    async def intercept(self, turn: Turn, message: Message) -> Result:
        """Check one inbound message; queue the crisis response when it shows risk."""
        found = assess(message.body, turn.patient.locale)
        if turn.patient.bot_paused and await open_takeover(turn.session, turn.patient.id):
            await safetycheck.cancel(turn, "takeover")
            if found.urgent:
                await self._disclosure_in_takeover(turn, found)
            return Result.CONTINUE  # the takeover link keeps it for the coach
        compliance = optout.keyword(message.body or "")[0] in _COMPLIANCE
        check = None if compliance else safetycheck.active(turn)
        if (
            check is not None
            and not found.urgent
            and await held.keyword(turn, message, may_start=False)
        ):
            # SOS or PLAN in the middle of the check: answered, then the question stands.
            await safetycheck.repeat(turn, check)
            return Result.HOLD
        elif check is not None:
            await safetycheck.reply(turn, message, check, found)
            return Result.HOLD
        elif found.urgent:
            await safetycheck.respond(
                turn,
                found.level,
                "message",
                crisis.describe(found),
                categories=crisis.categories(found),
                safeguarding=crisis.safeguarding(found),
            )
            return Result.HOLD
        elif found.wants_human:
            await self._human(turn)
            return Result.HOLD
        elif compliance:
            return Result.CONTINUE
        elif await held.keyword(turn, message):
            return Result.HOLD
        elif turn.patient.bot_paused and turn.patient.status != PatientStatus.OPTED_OUT:
            await held.on_message(turn, message)
            return Result.HOLD
        return Result.CONTINUE

    async def hold(self, turn: Turn, message: Message) -> Result:
        """The takeover link: the chain ends here when safety held the turn or the bot is
        paused for this patient (a coach has the conversation)."""
        if turn.patient.bot_paused:
            publish_after_commit(
                turn.session,
                LiveEvent("patient_message", turn.now, turn.patient.id, data={"id": message.id}),
            )
            await turn.log("held_for_coach", {"message_id": message.id})
            return Result.HANDLED
        return Result.HANDLED if turn.held else Result.CONTINUE

    async def _disclosure_in_takeover(self, turn: Turn, found: RiskAssessment) -> None:
        """The coach is there: help lines go out and the coach is alerted, nothing is asked."""
        res = await crisis.resources(turn)
        await crisis.send_resources(turn, res, found.level, "takeover")
        await turn.log(
            "risk_detected",
            {
                "level": found.level,
                "source": "takeover",
                "categories": crisis.categories(found),
                "detail": crisis.describe(found),
            },
        )
        await crisis.escalate(
            turn, found.level, crisis.describe(found), safeguarding=crisis.safeguarding(found)
        )

    async def _human(self, turn: Turn) -> None:
        """A request for a person: a normal escalation, and an honest word on when one answers."""
        locale = turn.patient.locale
        esc = await escalations.open_escalation(
            turn.session, turn.patient.id, "human_request", "normal", "", turn.now
        )
        if await crisis.told(turn, esc) == "nobody":
            support = turn.pipeline.settings.support_contact
            await turn.send(text("coaching.human_ack_nobody", locale, support=support), urgent=True)
        else:
            when = _when(esc.due_at - turn.now, locale)
            await turn.send(text("coaching.human_ack", locale, when=when), urgent=True)
        await turn.log("human_requested", {"escalation_id": esc.id})
