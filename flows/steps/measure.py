"""Give a standardised measure (PHQ-9, GAD-7, PHQ-2, GAD-2) one item per message.

```yaml
weekly_phq9:
  type: measure
  measure: phq9                  # phq9 | gad7 | phq2 | gad2
  save: phq9                     # prefix of the variables set (default: the measure id)
  intro: phq9_intro              # optional text key sent before the first item; it may say
                                 # `{{ phq9_count }}`, the scored questions still to come
  max_tries: 3                   # unclear answers to one item before giving up (on_fail)
  on_fail: not_finished          # optional; default: next, with `<save>_total` unset (None)
  on_risk: after_risk            # optional; default: next (see below)
  timeout: {after_hours: 12, remind: measure_nudge, then: closed}
  progress: true                 # phq9 | gad7: tell the patient their progress when scored
  next: after_phq9
```
Answers: a digit 0-3, the option's words (English or Spanish, small misspellings allowed) or a
button. PHQ-9 item 9 is read by `parse_item9`: only a clear "not at all" is 0, and an unclear
reply ("maybe a bit", "casi nunca") counts as 1, recorded as interpreted with the raw reply.
Item 9 still unanswered after `max_tries`, or when the measure times out on it, escalates (risk,
high) and goes to `on_risk` (else on_fail / next).
Each answer is recorded at once (RecordMeasure); when the last item is in, the total goes
out as MeasureScored and `<save>_total`, `<save>_band`, `<save>_positive` are set. PHQ-9 item 9
above 0 sends a short supportive text and escalates (risk, urgent) in the same turn: the escalation
handler sends the crisis resources and the safety question and pauses the bot. The measure is then
scored at once (only the unscored difficulty question is left) and the run goes to `on_risk`, so
nothing else is asked on top of the crisis response. A total that is a reliable worsening against
`patient.last_scores[<measure>]` escalates (worsening, high).

`progress: true` (PHQ-9, GAD-7): when scored (not after an item-9 risk answer), one message tells
the patient their own progress in plain words from `patient.measure_history`
(`flows.measures.progress`). A PHQ-9 (GAD-7) that starts right after a PHQ-2 (GAD-2), that is,
at most 24 hours after it was completed with no PHQ-9 (GAD-7) since, takes the screener's two
answers as its items 1-2 (recorded with `carried_from`) and asks from item 3.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, model_validator

from flows import model as m
from flows.measures import (
    get_measure,
    is_item9_risk,
    item_prompt,
    parse_difficulty,
    parse_item9,
    parse_option,
    reliable_worsening,
    score,
)
from flows.measures.model import MAX_OPTION, MIN_OPTION, catalog, resolve_locale
from flows.measures.outcomes import OUTCOME_MEASURES, Administration, compute, history_from
from flows.measures.progress import progress as progress_for
from flows.measures.progress import text_keys as progress_keys
from flows.steps.base import (
    GIVE_UP,
    Goto,
    Outcome,
    Runtime,
    Step,
    Timeout,
    Wait,
    give_up,
    handle_timeout,
    register,
    timeout_expressions,
    timeout_targets,
    wait_for,
)

REASK = "common.measure_reask"
RISK = "common.measure_risk_reply"
# A screener counts as a full measure's first items when completed at most this long before it.
RIGHT_AFTER = timedelta(hours=24)
SCREENER_OF = {"phq9": "phq2", "gad7": "gad2"}


@register
class MeasureStep(Step):
    kind = "measure"
    waits = True
    type: Literal["measure"]
    measure: Literal["phq9", "gad7", "phq2", "gad2"]
    save: str | None = None
    intro: str | None = None
    max_tries: int = Field(default=3, ge=1, le=10)
    on_fail: str | None = None
    on_risk: str | None = None
    timeout: Timeout | None = None
    progress: bool = False
    next: str

    @model_validator(mode="after")
    def _progress_needs_a_full_measure(self) -> MeasureStep:
        if self.progress and self.measure not in OUTCOME_MEASURES:
            raise ValueError(f"progress is only told for {', '.join(OUTCOME_MEASURES)}")
        return self

    @property
    def prefix(self) -> str:
        return self.save or self.measure

    def targets(self) -> dict[str, str]:
        edges = {"scored": self.next, **timeout_targets(self.timeout)}
        if self.on_fail:
            edges["not understood"] = self.on_fail
        if self.on_risk:
            edges["item 9 risk"] = self.on_risk
        return edges

    def expressions(self) -> list[str]:
        return timeout_expressions(self.timeout)

    def text_keys(self) -> list[str]:
        keys = [REASK, RISK, GIVE_UP]
        if self.intro:
            keys.append(self.intro)
        if self.timeout and self.timeout.remind:
            keys.append(self.timeout.remind)
        if self.progress:
            keys.extend(progress_keys(self.measure))
        return keys

    def sets(self) -> list[str]:
        p = self.prefix
        names = ("total", "band", "positive", "answers", "item", "at", "count")
        return [f"{p}_{name}" for name in names] + (["progress"] if self.progress else [])

    # --- asking ---------------------------------------------------------------------------

    def _number(self, rt: Runtime) -> int:
        index = int(rt.variables.get(f"{self.prefix}_item") or 0)
        return get_measure(self.measure).items[index].number

    def _options(self, rt: Runtime, number: int) -> tuple[tuple[str, str], ...]:
        cat = catalog()
        item = next(i for i in get_measure(self.measure).items if i.number == number)
        labels = cat.options if item.scored else cat.difficulty_options
        words = labels[resolve_locale(rt.ctx.locale)]
        return tuple((label, str(value)) for value, label in enumerate(words))

    def _ask(self, rt: Runtime, reask: bool = False, lead_in: bool | None = None) -> Wait:
        number = self._number(rt)
        choices = self._options(rt, number)
        if reask:
            listed = "\n".join(f"{value} {label}" for label, value in choices)
            text = f"{rt.text(REASK)}\n{listed}"
            key = REASK
        else:
            text = item_prompt(self.measure, number, rt.ctx.locale, lead_in=lead_in)
            key = f"{self.measure}.item{number}"
        rt.emit(m.Send(text, choices=choices, key=f"{rt.flow.id}.{key}"))
        return wait_for(self.timeout, rt)

    def enter(self, rt: Runtime) -> Outcome:
        p = self.prefix
        rt.variables[f"{p}_item"] = 0
        rt.variables[f"{p}_answers"] = {}
        for name in ("total", "band", "positive", "at"):
            rt.variables[f"{p}_{name}"] = None
        carried = self._carried(rt)
        screener = SCREENER_OF.get(self.measure)
        for number, value in carried.items():
            rt.emit(m.RecordMeasure(self.measure, number, value, carried_from=screener))
        if carried:
            rt.variables[f"{p}_answers"] = {str(n): v for n, v in carried.items()}
            rt.variables[f"{p}_item"] = len(carried)
        # How many scored questions are still to come, for the intro ("Time for 7 questions").
        scored = sum(1 for item in get_measure(self.measure).items if item.scored)
        rt.variables[f"{p}_count"] = scored - len(carried)
        if self.intro:
            rt.send(self.intro)
        return self._ask(rt, lead_in=True if carried else None)

    def _carried(self, rt: Runtime) -> dict[int, int]:
        """Items 1-2 from a screener given right after (see the module docstring), else {}."""
        screener = SCREENER_OF.get(self.measure)
        if screener is None:
            return {}
        answers, at = rt.variables.get(f"{screener}_answers"), rt.variables.get(f"{screener}_at")
        history = rt.patient.get("measure_history")
        if not (isinstance(answers, dict) and isinstance(at, str)):
            entries = history.get(screener) if isinstance(history, dict) else None
            last = entries[-1] if isinstance(entries, list) and entries else None
            if not isinstance(last, dict):
                return {}
            answers, at = last.get("answers"), last.get("at")
        try:
            when = datetime.fromisoformat(str(at))
        except ValueError:
            return {}
        if not isinstance(answers, dict) or not timedelta(0) <= rt.ctx.now - when <= RIGHT_AFTER:
            return {}
        if any(a.at >= when for a in history_from(history, self.measure)):
            return {}  # those answers already went into a full measure
        numbers = [item.number for item in get_measure(screener).items]
        values = {n: answers.get(str(n), answers.get(n)) for n in numbers}
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and MIN_OPTION <= v <= MAX_OPTION
            for v in values.values()
        ):
            return {}
        return {n: int(v) for n, v in values.items() if v is not None}

    # --- answering ------------------------------------------------------------------------

    def _is_risk_item(self, number: int) -> bool:
        return catalog().risk_items.get(get_measure(self.measure).id) == number

    def on_input(self, rt: Runtime, text: str, payload: str | None) -> Outcome:
        measure = get_measure(self.measure)
        number = self._number(rt)
        item = next(i for i in measure.items if i.number == number)
        parse = parse_option if item.scored else parse_difficulty
        value = parse(payload, rt.ctx.locale) if payload else None
        interpreted = False
        if value is None and self._is_risk_item(number):
            # Only a clear "not at all" is 0; an unclear reply counts as positive (item9.py).
            answer = parse_item9(text)
            if answer is not None:
                value, interpreted = answer.value, answer.interpreted
        elif value is None:
            value = parse(text, rt.ctx.locale)
        if value is None:
            rt.retries += 1
            if rt.retries >= self.max_tries:
                rt.emit(m.RecordAnswer(rt.state, f"{self.prefix}_item{number}", None, text))
                if self._is_risk_item(number):  # the concern response is its fallback
                    return self._unanswered(rt, f"after {rt.retries} unclear replies")
                give_up(rt)
                return Goto(self.on_fail or self.next)
            return self._ask(rt, reask=True)
        rt.retries = 0
        if interpreted:
            rt.emit(m.RecordMeasure(self.measure, number, value, raw=text, interpreted=True))
        else:
            rt.emit(m.RecordMeasure(self.measure, number, value))
        answers = dict(rt.variables.get(f"{self.prefix}_answers") or {})
        answers[str(number)] = value
        rt.variables[f"{self.prefix}_answers"] = answers
        scored = {int(k): int(v) for k, v in answers.items()}
        if is_item9_risk(self.measure, number, value):
            self._risk(rt, value, interpreted)
            if all(i.number in scored for i in measure.items if i.scored):
                self._finish(rt, scored, risk=True)
                return Goto(self.on_risk or self.next)
        index = int(rt.variables.get(f"{self.prefix}_item") or 0) + 1
        if index < len(measure.items):
            rt.variables[f"{self.prefix}_item"] = index
            return self._ask(rt)
        self._finish(rt, scored)
        return Goto(self.next)

    def _unanswered(self, rt: Runtime, why: str) -> Outcome:
        # Never a silent 0 or a silent skip: a person looks at it (risk, high: the concern
        # response) and nothing else is asked on top of it.
        detail = f"PHQ-9 item 9 unanswered {why}" if self.measure == "phq9" else why
        rt.emit(m.Escalate("risk", "high", detail))
        return Goto(self.on_risk or self.on_fail or self.next)

    def _risk(self, rt: Runtime, value: int, interpreted: bool = False) -> None:
        # The supportive words come first; the escalation handler then sends the crisis resources
        # and the safety question in this same turn (and pauses the bot for a coach).
        rt.emit(m.Send(rt.text(RISK), urgent=True, key=f"{rt.flow.id}.{RISK}"))
        detail = f"{self.measure} item 9 answered {value}"
        if interpreted:
            detail += " (an unclear reply, counted as positive)"
        rt.emit(m.Escalate("risk", "urgent", detail))

    def _finish(self, rt: Runtime, answers: dict[int, int], risk: bool = False) -> None:
        result = score(self.measure, answers)
        p = self.prefix
        rt.variables[f"{p}_total"] = result.total
        rt.variables[f"{p}_band"] = result.band
        rt.variables[f"{p}_positive"] = result.positive
        rt.variables[f"{p}_at"] = rt.ctx.now.isoformat()
        numbers = {item.number for item in get_measure(self.measure).items if item.scored}
        scored = {n: v for n, v in answers.items() if n in numbers}
        rt.emit(m.MeasureScored(self.measure, result.total, result.band, result.positive, scored))
        if self.measure not in catalog().worsening:
            return
        self._worsening(rt, result.total)
        if self.progress and not risk:
            self._tell_progress(rt, result.total, result.band)

    def _tell_progress(self, rt: Runtime, total: int, band: str) -> None:
        history = history_from(rt.patient.get("measure_history"), self.measure)
        outcome = compute(self.measure, [*history, Administration(total, rt.ctx.now)])
        assert outcome is not None
        said = progress_for(outcome, band)
        # Texts read `progress.total`, `progress.since_start`, ...: fragments first, then the
        # message that places them.
        shown: dict[str, Any] = dict(said.numbers)
        rt.variables["progress"] = shown
        shown.update({name: rt.text(key) for name, key in said.fragments.items()})
        rt.variables["progress"] = shown
        rt.emit(m.Send(rt.text(said.key), key=f"{rt.flow.id}.{said.key}"))

    def _worsening(self, rt: Runtime, total: int) -> None:
        last: Any = rt.patient.get("last_scores") or {}
        previous = last.get(self.measure) if isinstance(last, dict) else None
        previous = previous if isinstance(previous, int) else None
        if reliable_worsening(self.measure, previous, total):
            was = "none" if previous is None else str(previous)
            detail = f"{self.measure} total {total} (was {was})"
            rt.emit(m.Escalate("worsening", "high", detail))

    def on_timeout(self, rt: Runtime) -> Outcome:
        outcome = handle_timeout(self.timeout, rt)
        if isinstance(outcome, Goto) and self._is_risk_item(self._number(rt)):
            return self._unanswered(rt, "(the measure timed out)")
        return outcome
