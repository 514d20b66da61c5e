"""Send one or more texts, then move on.

```yaml
welcome:
  type: message
  text: [welcome, not_emergency]   # text keys, sent in order
  next: consent
```
"""

from __future__ import annotations

from typing import Literal

from flows.steps.base import Goto, Outcome, Runtime, Step, register


@register
class MessageStep(Step):
    kind = "message"
    type: Literal["message"]
    text: str | list[str]
    next: str

    def keys(self) -> list[str]:
        return [self.text] if isinstance(self.text, str) else list(self.text)

    def targets(self) -> dict[str, str]:
        return {"next": self.next}

    def text_keys(self) -> list[str]:
        return self.keys()

    def enter(self, rt: Runtime) -> Outcome:
        for key in self.keys():
            rt.send(key)
        return Goto(self.next)
