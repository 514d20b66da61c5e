"""WORRY texts: a worry noticed during the day is saved for the patient's worry time.

"worry the rent is due" or "preocupación: el examen" at any moment is appended to the
`anx_worries` fact (which the anx_worry_review flow lists at worry time) and answered with one
short line; the flow that is waiting stays where it was. The message is left to the flow when it
waits for a free-text answer (the worry is that answer) and before the patient has consented, and
to the menu when it is a menu label ("Worry time", "Worry questions (GAD-7)").
Reply texts live in the anx_worry flow's content (`log_saved`, `log_howto`).
"""

from __future__ import annotations

import re

from bot.actions import Turn
from bot.chain import Result
from bot.facts import load_facts, set_facts
from bot.menu import typed_label
from flows.steps.question import QuestionStep
from flows.texts import text
from storage import repo
from storage.models import Message
from storage.statuses import RunStatus

MAX_SAVED = 30  # the oldest go first; worry time shows ten at a time
TEXTS_FLOW = "anx_worry"  # the replies are that flow's texts, shared with its steps

_WORRY = re.compile(
    r"^\s*(?:worry|worried|preocupaci[oó]n|preocupad[oa]|preocupa)\b[\s:,.!-]*(.*)$",
    re.IGNORECASE | re.DOTALL,
)


def parse_worry(text: str) -> str | None:
    """The worry in a WORRY text ("" when only the keyword was sent), or None if it is not one."""
    match = _WORRY.match(text or "")
    if match is None:
        return None
    return " ".join(match.group(1).split())[:300]


async def _flow_wants_text(turn: Turn) -> bool:
    row = await repo.active_run(turn.session, turn.patient.id)
    if row is None or row.status != RunStatus.WAITING:
        return False
    library = turn.pipeline.library
    if not library.has_version(row.flow_id, row.flow_version):
        return False
    step = library.get(row.flow_id, row.flow_version).steps.get(row.state)
    return isinstance(step, QuestionStep) and step.answer.type == "text"


def _text(turn: Turn, key: str) -> str:
    settings = turn.pipeline.settings
    site = {"program": settings.program_name, "support": settings.support_contact}
    return text(f"{TEXTS_FLOW}.{key}", turn.patient.locale, site=site, patient={})


async def worry_log(turn: Turn, message: Message) -> Result:
    """Interceptor: save a WORRY text for worry time; True when it was one."""
    worry = parse_worry(message.body)
    if worry is None or turn.patient.consent_given is not True:
        return Result.CONTINUE
    if await _flow_wants_text(turn) or await typed_label(turn, message) is not None:
        return Result.CONTINUE
    if not worry:
        await turn.send(_text(turn, "log_howto"))
        return Result.HANDLED
    saved = list((await load_facts(turn.session, turn.patient.id)).get("anx_worries") or [])
    saved = ([*saved, worry])[-MAX_SAVED:]
    await set_facts(turn.session, turn.patient.id, {"anx_worries": saved}, turn.now)
    # Counts only: the worry's words stay in the fact, out of the audit log.
    await turn.log("worry_logged", {"chars": len(worry), "saved": len(saved)})
    await turn.send(_text(turn, "log_saved"))
    return Result.HANDLED
