"""Read the injected clock in the patient's time zone into a variable, so a flow can ask about
the right part of the day ("this morning", "yesterday evening") and plan on dates.

```yaml
when:
  type: clock
  save: now          # variable that receives the patient-local time facts below
  next: ask_period
```
`now` then holds: `date` ("2026-03-02"), `time` ("09:00"), `hour` (9), `weekday` (0 Monday ..
6 Sunday), `part` (morning 05-12, afternoon 12-17, evening 17-05); `ended`: the three parts of
the day that ended most recently, latest first, each `{key, date, part, today}` with key like
"2026-03-01 evening" (a morning ends at 12, an afternoon at 17, an evening at 21; before 05:00
the evening still belongs to the day before); `ahead`: today and the next 7 days, each
`{date, weekday}`; `ago`: dates from today back 56 days (`now.ago[7]` is a week ago).
Computed from `Context.now` and the patient's zone only, so the step stays pure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows.steps.base import Goto, Outcome, Runtime, Step, register

# (part, first hour, hour from which it counts as ended for "what did you do ..." questions)
PARTS = (("morning", 5, 12), ("afternoon", 12, 17), ("evening", 17, 21))
HISTORY_DAYS = 56


def part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    return "evening"


def ended_parts(local: datetime, count: int = 3) -> list[dict[str, Any]]:
    """The `count` most recently ended parts of the day, latest first."""
    # Before 05:00 the patient's day has not turned yet: last night is still "this evening".
    today = local.date() - timedelta(days=1) if local.hour < 5 else local.date()
    hour = local.hour + 24 if local.hour < 5 else local.hour
    found: list[dict[str, Any]] = []
    day, offset = today, 0
    while len(found) < count:
        for part, _, ends in reversed(PARTS):
            if hour + offset >= ends and len(found) < count:
                found.append(
                    {
                        "key": f"{day.isoformat()} {part}",
                        "date": day.isoformat(),
                        "part": part,
                        "today": day == today,
                    }
                )
        day, offset = day - timedelta(days=1), offset + 24
    return found


def local_facts(now: datetime, zone: str) -> dict[str, Any]:
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local = now.astimezone(tz)
    today = local.date()
    return {
        "date": today.isoformat(),
        "time": f"{local.hour:02d}:{local.minute:02d}",
        "hour": local.hour,
        "weekday": local.weekday(),
        "part": part_of_day(local.hour),
        "ended": ended_parts(local),
        "ahead": [
            {"date": (today + timedelta(days=n)).isoformat(), "weekday": (local.weekday() + n) % 7}
            for n in range(8)
        ],
        "ago": [(today - timedelta(days=n)).isoformat() for n in range(HISTORY_DAYS + 1)],
    }


@register
class ClockStep(Step):
    kind = "clock"
    type: Literal["clock"]
    save: str
    next: str

    def targets(self) -> dict[str, str]:
        return {"next": self.next}

    def sets(self) -> list[str]:
        return [self.save]

    def enter(self, rt: Runtime) -> Outcome:
        rt.variables[self.save] = local_facts(rt.ctx.now, rt.ctx.timezone)
        return Goto(self.next)
