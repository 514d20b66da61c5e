"""End the flow (or return to the calling flow), optionally starting another flow at once.

```yaml
done:
  type: end
  outcome: completed       # recorded in the event log
  then: checkin            # optional: start this flow next
```
"""

from __future__ import annotations

from typing import Literal

from flows.steps.base import End, Outcome, Runtime, Step, register


@register
class EndStep(Step):
    kind = "end"
    type: Literal["end"]
    outcome: str = "completed"
    then: str | None = None

    def subflows(self) -> list[str]:
        return [self.then] if self.then else []

    def enter(self, rt: Runtime) -> Outcome:
        return End(self.outcome, self.then)
