"""Set variables from expressions.

```yaml
note_mood:
  type: set
  values:
    low_mood: "mood <= 3"
    checkins_done: "(checkins_done or 0) + 1"
  next: reflect
```
"""

from __future__ import annotations

from typing import Literal

from flows.steps.base import Goto, Outcome, Runtime, Step, register


@register
class SetStep(Step):
    kind = "set"
    type: Literal["set"]
    values: dict[str, str]
    next: str

    def targets(self) -> dict[str, str]:
        return {"next": self.next}

    def expressions(self) -> list[str]:
        return list(self.values.values())

    def sets(self) -> list[str]:
        return list(self.values)

    def enter(self, rt: Runtime) -> Outcome:
        for name, expression in self.values.items():
            rt.variables[name] = rt.value(expression)
        return Goto(self.next)
