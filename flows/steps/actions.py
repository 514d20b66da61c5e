"""Steps that ask Tandem to do something outside the conversation, then move on.

```yaml
save_profile:
  type: update_patient
  fields: {display_name: "name", checkin_time: "checkin_time"}   # field: expression
  next: plan_checkins

plan_checkins:
  type: schedule
  kind: checkin
  daily_at: "checkin_time"          # expression giving "HH:MM" patient-local (or)
  after_hours: "24"                 # expression giving hours from now, for a one-off
  data: {flow: checkin}
  next: done

get_help:
  type: escalate
  reason: asked_for_person          # risk, asked_for_person, disengaged, worsening, undeliverable
  priority: normal                  # urgent, high, normal
  next: done
```
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, model_validator

from flows import model as m
from flows.steps.base import Goto, Outcome, Runtime, Step, register


@register
class UpdatePatientStep(Step):
    kind = "update_patient"
    type: Literal["update_patient"]
    fields: dict[str, str]
    next: str

    def targets(self) -> dict[str, str]:
        return {"next": self.next}

    def expressions(self) -> list[str]:
        return list(self.fields.values())

    def enter(self, rt: Runtime) -> Outcome:
        rt.emit(m.UpdatePatient({k: rt.value(v) for k, v in self.fields.items()}))
        return Goto(self.next)


@register
class ScheduleStep(Step):
    kind = "schedule"
    type: Literal["schedule"]
    # `kind` is the YAML key; on the model it would clash with the step-type name.
    kind_: str = Field(alias="kind", min_length=1)
    daily_at: str | None = None
    after_hours: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    next: str

    @model_validator(mode="after")
    def _one_time(self) -> ScheduleStep:
        if (self.daily_at is None) == (self.after_hours is None):
            raise ValueError("a schedule step needs exactly one of daily_at or after_hours")
        return self

    def targets(self) -> dict[str, str]:
        return {"next": self.next}

    def expressions(self) -> list[str]:
        return [e for e in (self.daily_at, self.after_hours) if e is not None]

    def enter(self, rt: Runtime) -> Outcome:
        if self.daily_at is not None:
            local = rt.value(self.daily_at)
            if local:
                rt.emit(m.Schedule(self.kind_, local_time=str(local), data=self.data))
        elif self.after_hours is not None:
            at = rt.ctx.now + timedelta(hours=float(rt.value(self.after_hours)))
            rt.emit(m.Schedule(self.kind_, at=at, data=self.data))
        return Goto(self.next)


@register
class EscalateStep(Step):
    kind = "escalate"
    type: Literal["escalate"]
    reason: str
    priority: Literal["urgent", "high", "normal"] = "normal"
    detail: str = ""
    next: str

    def targets(self) -> dict[str, str]:
        return {"next": self.next}

    def templates(self) -> list[str]:
        return [self.detail] if self.detail else []

    def enter(self, rt: Runtime) -> Outcome:
        from flows.texts import render

        detail = render(self.detail, rt.scope()) if self.detail else ""
        rt.emit(m.Escalate(self.reason, self.priority, detail))
        return Goto(self.next)
