"""Go to the first case whose condition holds, else to `default`.

```yaml
route:
  type: branch
  cases:
    - when: "mood <= 3"
      next: low_mood
    - when: "mood >= 8"
      next: good_mood
  default: okay_mood
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from flows.steps.base import Goto, Outcome, Runtime, Step, register


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    when: str
    next: str


@register
class BranchStep(Step):
    kind = "branch"
    type: Literal["branch"]
    cases: list[Case]
    default: str

    def targets(self) -> dict[str, str]:
        edges = {f"case {i + 1}": case.next for i, case in enumerate(self.cases)}
        edges["default"] = self.default
        return edges

    def expressions(self) -> list[str]:
        return [case.when for case in self.cases]

    def enter(self, rt: Runtime) -> Outcome:
        for case in self.cases:
            if rt.value(case.when):
                return Goto(case.next)
        return Goto(self.default)
