"""Ask, parse a typed answer, re-ask when it is not understood, fall back after a few tries.

```yaml
mood:
  type: question
  prompt: ask_mood               # text key
  answer:
    type: integer                # choice | integer | numbers | yes_no | text | time | country
    min: 0
    max: 10
  save: mood                     # variable that receives the value
  reask: mood_reask              # optional; default is the shared re-ask text for the type
  max_tries: 3                   # answers not understood before `on_fail`
  on_fail: skip_mood             # optional; default: the same as next, with the variable unset
                                 # (either way `common.unclear_fallback` is said first)
  timeout: {after_hours: 12, remind: mood_nudge, then: closed}
  next: reflect
```
Choices: `answer: {type: choice, options: [{value: walk, label: opt_walk}]}` (options may carry
`synonyms: {en: [stroll], es: [paseo]}`); their labels are listed under the prompt ("1 Walk") and
offered as buttons where the channel has them. A `numbers` answer (min, max) is a list picked from
a numbered list: "1 3", "2 and 4", "all", or NONE for an empty list. A `country` answer (an ISO
code or an English or Spanish name) saves the ISO code, and its name in the patient's language as
`<save>_name`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flows import model as m
from flows.answers import Option, parse_answer
from flows.safety.country import country_name
from flows.steps.base import (
    GIVE_UP,
    Goto,
    Outcome,
    Runtime,
    Step,
    Timeout,
    give_up,
    handle_timeout,
    register,
    timeout_expressions,
    timeout_targets,
    wait_for,
)

ANSWER_TYPES = ("choice", "integer", "numbers", "yes_no", "text", "time", "country")


class OptionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str
    label: str
    synonyms: dict[str, list[str]] = Field(default_factory=dict)


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["choice", "integer", "numbers", "yes_no", "text", "time", "country"]
    min: int | None = None
    max: int | None = None
    max_length: int = Field(default=500, gt=0, le=2000)
    options: list[OptionSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> Answer:
        if self.type in {"integer", "numbers"} and (
            self.min is None or self.max is None or self.min > self.max
        ):
            raise ValueError(f"an {self.type} answer needs min <= max")
        if self.type == "choice" and len(self.options) < 2:
            raise ValueError("a choice answer needs at least two options")
        return self


@register
class QuestionStep(Step):
    kind = "question"
    waits = True
    type: Literal["question"]
    prompt: str
    answer: Answer
    save: str | None = None
    reask: str | None = None
    max_tries: int = Field(default=3, ge=1, le=10)
    on_fail: str | None = None
    timeout: Timeout | None = None
    next: str

    def targets(self) -> dict[str, str]:
        edges = {"answered": self.next, **timeout_targets(self.timeout)}
        if self.on_fail:
            edges["not understood"] = self.on_fail
        return edges

    def expressions(self) -> list[str]:
        return timeout_expressions(self.timeout)

    def text_keys(self) -> list[str]:
        keys = [self.prompt, self.reask or f"common.reask_{self.answer.type}", GIVE_UP]
        keys += [o.label for o in self.answer.options]
        if self.timeout and self.timeout.remind:
            keys.append(self.timeout.remind)
        return keys

    def sets(self) -> list[str]:
        if not self.save:
            return []
        return [self.save, f"{self.save}_name"] if self.answer.type == "country" else [self.save]

    def _choices(self, rt: Runtime) -> tuple[tuple[str, str], ...]:
        return tuple((rt.text(o.label), o.value) for o in self.answer.options)

    def _ask(self, rt: Runtime, key: str) -> None:
        choices = self._choices(rt)
        text = rt.text(key, min=self.answer.min, max=self.answer.max)
        if choices:
            listed = "\n".join(f"{i + 1} {label}" for i, (label, _) in enumerate(choices))
            text = f"{text}\n{listed}"
        rt.emit(m.Send(text, choices=choices, key=f"{rt.flow.id}.{key}"))

    def enter(self, rt: Runtime) -> Outcome:
        self._ask(rt, self.prompt)
        return wait_for(self.timeout, rt)

    def on_input(self, rt: Runtime, text: str, payload: str | None) -> Outcome:
        labels = {o.label: rt.text(o.label) for o in self.answer.options}
        spec: dict[str, Any] = self.answer.model_dump()
        spec["options"] = [Option(o.value, o.label, o.synonyms) for o in self.answer.options]
        value = parse_answer(self.answer.type, text, payload, spec, labels)
        if value is not None:
            if self.save:
                rt.variables[self.save] = value
                if self.answer.type == "country":
                    rt.variables[f"{self.save}_name"] = country_name(value, rt.ctx.locale)
            rt.emit(m.RecordAnswer(rt.state, self.save, value, text))
            return Goto(self.next)
        rt.retries += 1
        if rt.retries >= self.max_tries:
            rt.emit(m.RecordAnswer(rt.state, self.save, None, text))
            if self.save:
                rt.variables[self.save] = None
            give_up(rt)
            return Goto(self.on_fail or self.next)
        self._ask(rt, self.reask or "common.reask_" + self.answer.type)
        return wait_for(self.timeout, rt)

    def on_timeout(self, rt: Runtime) -> Outcome:
        return handle_timeout(self.timeout, rt)
