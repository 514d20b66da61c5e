"""Wait for any message from the patient (or a timeout), then move on.

```yaml
ready:
  type: wait
  save: ready_reply            # optional: keep what they wrote
  timeout: {after_hours: 24, remind: still_there, then: closed}
  next: start_exercise
```
"""

from __future__ import annotations

from typing import Literal

from flows import model as m
from flows.steps.base import (
    Goto,
    Outcome,
    Runtime,
    Step,
    Timeout,
    handle_timeout,
    register,
    timeout_expressions,
    timeout_targets,
    wait_for,
)


@register
class WaitStep(Step):
    kind = "wait"
    waits = True
    type: Literal["wait"]
    save: str | None = None
    timeout: Timeout | None = None
    next: str

    def targets(self) -> dict[str, str]:
        return {"next": self.next, **timeout_targets(self.timeout)}

    def expressions(self) -> list[str]:
        return timeout_expressions(self.timeout)

    def text_keys(self) -> list[str]:
        return [self.timeout.remind] if self.timeout and self.timeout.remind else []

    def sets(self) -> list[str]:
        return [self.save] if self.save else []

    def enter(self, rt: Runtime) -> Outcome:
        return wait_for(self.timeout, rt)

    def on_input(self, rt: Runtime, text: str, payload: str | None) -> Outcome:
        if self.save:
            rt.variables[self.save] = text
            rt.emit(m.RecordAnswer(rt.state, self.save, text, text))
        return Goto(self.next)

    def on_timeout(self, rt: Runtime) -> Outcome:
        return handle_timeout(self.timeout, rt)
