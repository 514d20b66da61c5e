"""Run another flow, then come back. Variables are shared with the subflow.

```yaml
screen:
  type: subflow
  flow: phq2
  next: after_screen
```
"""

from __future__ import annotations

from typing import Literal

from flows.steps.base import Call, Outcome, Runtime, Step, register


@register
class SubflowStep(Step):
    kind = "subflow"
    type: Literal["subflow"]
    flow: str
    next: str

    def targets(self) -> dict[str, str]:
        return {"return": self.next}

    def subflows(self) -> list[str]:
        return [self.flow]

    def enter(self, rt: Runtime) -> Outcome:
        return Call(self.flow, self.next)
