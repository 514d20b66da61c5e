"""The structured safety check after a disclosure, after the C-SSRS screener (Posner et al. 2011).

Pure: given the check's state and one patient reply it says what to record and ask next. The
questions are asked one per message; a reply that is not a clear answer ("ok", "fine", an emoji)
is re-asked once and then counted the unsafe way, because in text an unclear reply is not an
answer (shared/CLINICAL.md, Safety).

    safe_now  Are you safe right now?          NO: in danger, the check stops there
    thoughts  Thoughts of killing yourself?
    plan      Thought about how / a plan?      only after YES to thoughts (as the screener does)
    intent    Think you might act on them?     only after YES to thoughts
    prepared  Done or readied anything?        always (behaviour is asked regardless)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from flows.answers import fold

Step = Literal["safe_now", "thoughts", "plan", "intent", "prepared"]
Outcome = Literal["in_danger", "high", "moderate", "low"]
STEPS: tuple[Step, ...] = ("safe_now", "thoughts", "plan", "intent", "prepared")
# Steps where YES is the unsafe answer (for safe_now, NO is).
_RISK_STEPS = frozenset({"thoughts", "plan", "intent", "prepared"})

_YES = {
    "yes", "y", "yeah", "yea", "yep", "yup", "ya", "yes i am", "i am", "im safe", "i am safe",
    "yes im safe", "yes i am safe", "safe", "si", "sip", "si estoy", "estoy a salvo",
    "si estoy a salvo", "a salvo", "estoy bien a salvo", "yes i have", "i have", "i do", "yes i do",
    "si tengo", "si he", "si lo he pensado", "si lo he hecho", "de verdad que si", "claro que si",
}  # fmt: skip
_NO = {
    "no", "n", "nope", "nah", "never", "no never", "not at all", "no not at all", "nunca",
    "para nada", "no nunca", "de ninguna manera", "no i havent", "no i have not", "i havent",
    "i have not", "no i dont", "no i do not", "no im not", "no i am not", "im not", "i am not",
    "no estoy", "no he", "no lo he hecho", "no tengo", "no lo he pensado", "not safe",
    "im not safe", "i am not safe", "no estoy a salvo", "no me siento a salvo",
}  # fmt: skip
# Hedges: clinically a YES to a risk question ("sometimes" to thoughts of suicide is a yes).
_HEDGES = {
    "sometimes", "maybe", "a bit", "a little", "kind of", "kinda", "sort of", "sorta",
    "i guess", "probably", "once", "once or twice", "occasionally", "now and then", "a few times",
    "a veces", "tal vez", "quizas", "quiza", "un poco", "algo", "puede ser", "creo que si",
    "capaz", "mas o menos", "de vez en cuando", "una vez", "alguna vez", "pues si",
}  # fmt: skip
# Replies that read as "not safe" to "are you safe right now?".
_UNSAFE = {"not really", "no really", "no se", "idk", "i dont know", "dont know", "not sure"}


def interpret(step: Step, text: str) -> bool | None:
    """True/False for a clear answer (True meaning YES), None when it must be re-asked."""
    # Apostrophes dropped first, so "I'm" and "haven't" read like "im" and "havent".
    said = fold(text.replace("'", "").replace("’", ""))
    if said.startswith(("no ", "not ")) and said not in _UNSAFE and said not in _NO:
        # "no, I haven't thought about it" and similar: the leading NO decides.
        words = said.split()
        if not ({"but", "pero", "maybe", "sometimes", "a veces", "yes", "si"} & set(words)):
            return False
    if said in _YES:
        return True
    if said in _NO:
        return False
    if step in _RISK_STEPS and said in _HEDGES:
        return True
    if said.startswith(("yes ", "yeah ", "yep ", "si ")) and " not " not in f" {said} ":
        return True
    return None


@dataclass
class Check:
    """The stored state of one safety check (kept as JSON on the patient row)."""

    level: str  # risk or concern: what started it
    step: Step = "safe_now"
    reasked: bool = False
    answers: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "step": self.step,
            "reasked": self.reasked,
            "answers": self.answers,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Check | None:
        step = data.get("step")
        if step not in STEPS:
            return None
        return cls(
            level=str(data.get("level", "risk")),
            step=step,
            reasked=bool(data.get("reasked", False)),
            answers=list(data.get("answers", [])),
        )

    def value(self, step: Step) -> bool | None:
        for answer in reversed(self.answers):
            if answer["step"] == step:
                return bool(answer["yes"])
        return None


@dataclass(frozen=True)
class Reply:
    """What one patient reply did to the check."""

    recorded: dict[str, Any] | None  # the answer as logged (None: a re-ask)
    reask: bool  # ask the same question again
    next_step: Step | None  # the next question, or None when the check is over
    outcome: Outcome | None  # set when the check is over


def _after(check: Check, step: Step) -> Step | None:
    if step == "safe_now":
        return "thoughts"
    if step == "thoughts":
        return "plan" if check.value("thoughts") else "prepared"
    if step == "plan":
        return "intent"
    if step == "intent":
        return "prepared"
    return None


def outcome(check: Check) -> Outcome:
    """The screener's triage: any YES to plan, intent or preparation is high risk."""
    if check.value("safe_now") is False:
        return "in_danger"
    if any(check.value(s) for s in ("plan", "intent", "prepared")):
        return "high"
    if check.value("thoughts"):
        return "moderate"
    return "low"


def answer(check: Check, text: str, *, at: str, risk_in_text: bool = False) -> Reply:
    """Apply one reply to `check` (mutated). `risk_in_text`: the detector found risk in it, so
    an unclear reply counts the unsafe way at once instead of being re-asked."""
    step = check.step
    value = interpret(step, text)
    interpreted = False
    if value is None:
        if not check.reasked and not risk_in_text:
            check.reasked = True
            return Reply(None, True, step, None)
        # Second unclear reply (or one carrying risk): counted as the unsafe answer.
        value, interpreted = (step != "safe_now"), True
    recorded = {"step": step, "yes": value, "interpreted": interpreted, "at": at}
    check.answers.append(recorded)
    check.reasked = False
    if step == "safe_now" and value is False:
        return Reply(recorded, False, None, "in_danger")
    following = _after(check, step)
    if following is None:
        return Reply(recorded, False, None, outcome(check))
    check.step = following
    return Reply(recorded, False, following, None)
