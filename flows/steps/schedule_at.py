"""Ask for a one-off reminder at a patient-local day and time (a plan: "tomorrow at 6pm").

```yaml
remind:
  type: schedule_at
  kind: ba_reminder
  days_ahead: "plan_day"        # expression: 0 today, 1 tomorrow, ... (patient-local)
  local_time: "plan_time"       # expression giving "HH:MM"
  offset_hours: 3               # optional: this long after that time (a follow-up)
  data: {flow: ba_followup}     # the scheduler starts data.flow at that instant
  next: confirm
```
A time already past today moves to the same time tomorrow. Computed from `Context.now` and the
patient's time zone (DST-safe through zoneinfo), so the step stays pure.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from flows import model as m
from flows.steps.base import Goto, Outcome, Runtime, Step, register


def local_instant(now: datetime, zone: str, days_ahead: int, hhmm: str) -> datetime:
    """The UTC instant of `hhmm` on the patient-local day `days_ahead` from `now` (past: +1 day)."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    hour, minute = (int(part) for part in hhmm.split(":"))
    day = now.astimezone(tz).date() + timedelta(days=days_ahead)
    at = datetime.combine(day, time(hour, minute), tzinfo=tz)
    if at <= now:
        at = datetime.combine(day + timedelta(days=1), time(hour, minute), tzinfo=tz)
    return at.astimezone(now.tzinfo)


@register
class ScheduleAtStep(Step):
    kind = "schedule_at"
    type: Literal["schedule_at"]
    # `kind` is the YAML key; on the model it would clash with the step-type name.
    kind_: str = Field(alias="kind", min_length=1)
    days_ahead: str
    local_time: str
    offset_hours: float = Field(default=0, ge=0, le=24 * 14)
    data: dict[str, Any] = Field(default_factory=dict)
    next: str

    def targets(self) -> dict[str, str]:
        return {"next": self.next}

    def expressions(self) -> list[str]:
        return [self.days_ahead, self.local_time]

    def enter(self, rt: Runtime) -> Outcome:
        days, hhmm = rt.value(self.days_ahead), rt.value(self.local_time)
        if hhmm:
            at = local_instant(rt.ctx.now, rt.ctx.timezone, int(days or 0), str(hhmm))
            at += timedelta(hours=self.offset_hours)
            rt.emit(m.Schedule(self.kind_, at=at, data=self.data))
        return Goto(self.next)
