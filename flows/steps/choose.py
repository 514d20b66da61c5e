"""A choice whose options come from data (a patient fact), not from the flow: e.g. the time
zones of the patient's country. Otherwise it behaves like a `question` with a choice answer.

```yaml
ask_zone:
  type: choose
  prompt: zone_ask                     # text key
  options: "patient.timezone_options"  # expression: a list of {value, label, words}
  save: timezone                       # variable that receives the chosen value
  save_label: timezone_label           # optional: variable that receives the chosen label
  reask: zone_reask                    # optional; default common.reask_choice
  max_tries: 3
  on_fail: keep_zone                   # also taken at once when there are fewer than 2 options
  timeout: {after_hours: 24, remind: zone_nudge, then: keep_zone}
  next: save_zone
```
Labels arrive already in the patient's language; they are listed under the prompt ("1 Eastern")
and offered as buttons where the channel has them. A patient may answer with the number, the
label, the value or one of the option's `words` (matched without case or accents).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from flows import model as m
from flows.answers import Option, parse_choice
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


def _options(raw: Any) -> list[tuple[str, str, tuple[str, ...]]]:
    """(value, label, words) of each well-formed entry; anything else is left out."""
    found: list[tuple[str, str, tuple[str, ...]]] = []
    for entry in raw if isinstance(raw, list | tuple) else ():
        if not isinstance(entry, dict):
            continue
        value, label = entry.get("value"), entry.get("label")
        if isinstance(value, str) and value and isinstance(label, str) and label:
            words = entry.get("words") or ()
            found.append((value, label, tuple(w for w in words if isinstance(w, str))))
    return found


@register
class ChooseStep(Step):
    kind = "choose"
    waits = True
    type: Literal["choose"]
    prompt: str
    options: str
    save: str
    save_label: str | None = None
    reask: str | None = None
    max_tries: int = Field(default=3, ge=1, le=10)
    on_fail: str
    timeout: Timeout | None = None
    next: str

    def targets(self) -> dict[str, str]:
        return {"answered": self.next, "no choice": self.on_fail, **timeout_targets(self.timeout)}

    def text_keys(self) -> list[str]:
        keys = [self.prompt, self.reask or "common.reask_choice", GIVE_UP]
        if self.timeout and self.timeout.remind:
            keys.append(self.timeout.remind)
        return keys

    def expressions(self) -> list[str]:
        return [self.options, *timeout_expressions(self.timeout)]

    def sets(self) -> list[str]:
        return [self.save] + ([self.save_label] if self.save_label else [])

    def _ask(self, rt: Runtime, key: str, options: list[tuple[str, str, tuple[str, ...]]]) -> None:
        listed = "\n".join(f"{i + 1} {label}" for i, (_, label, _) in enumerate(options))
        choices = tuple((label, value) for value, label, _ in options)
        text = f"{rt.text(key)}\n{listed}"
        rt.emit(m.Send(text, choices=choices, key=f"{rt.flow.id}.{key}"))

    def _give_up(self, rt: Runtime, text: str | None) -> Outcome:
        if text is not None:
            rt.emit(m.RecordAnswer(rt.state, self.save, None, text))
        rt.variables[self.save] = None
        if self.save_label:
            rt.variables[self.save_label] = None
        return Goto(self.on_fail)

    def enter(self, rt: Runtime) -> Outcome:
        options = _options(rt.value(self.options))
        if len(options) < 2:
            return self._give_up(rt, None)  # nothing to choose between
        self._ask(rt, self.prompt, options)
        return wait_for(self.timeout, rt)

    def on_input(self, rt: Runtime, text: str, payload: str | None) -> Outcome:
        # Read again: the options may have gone (a coach set the zone meanwhile).
        options = _options(rt.value(self.options))
        if len(options) < 2:
            return self._give_up(rt, text)
        parsed = [Option(v, f"#{i}", {"any": words}) for i, (v, _, words) in enumerate(options)]
        labels = {f"#{i}": label for i, (_, label, _) in enumerate(options)}
        value = parse_choice(text, payload, parsed, labels)
        if value is not None:
            rt.variables[self.save] = value
            if self.save_label:
                rt.variables[self.save_label] = next(lab for v, lab, _ in options if v == value)
            rt.emit(m.RecordAnswer(rt.state, self.save, value, text))
            return Goto(self.next)
        rt.retries += 1
        if rt.retries >= self.max_tries:
            give_up(rt)
            return self._give_up(rt, text)
        self._ask(rt, self.reask or "common.reask_choice", options)
        return wait_for(self.timeout, rt)

    def on_timeout(self, rt: Runtime) -> Outcome:
        return handle_timeout(self.timeout, rt)
