"""Scheduling: check-ins, reminders and nudges in each patient's own time zone, exactly once.

Contract for flows (emit `flows.model.Schedule` actions; `bot.scheduling.handlers` stores them):

- Daily, patient-local: `Schedule(kind, local_time="HH:MM", data=...)`. One daily row per
  (patient, kind): emitting it again moves the time. Onboarding emits
  `Schedule("checkin", local_time=..., data={"flow": "checkin"})`.
- One-off: `Schedule(kind, at=<aware UTC>, data=...)` (the `schedule` step's `after_hours`).
  `data["key"]` names the row, so emitting the same kind and key again replaces the pending
  one (e.g. a weekly measure re-armed each time its flow ends); without a key every one-off is
  kept.
- What a fire does, chosen by `data`: `{"flow": X}` starts flow X (optional `"variables"`
  mapping); `{"text_key": "<flow>.<key>"}` sends that flow's localized text (rendered with
  `patient` and `site`); `{"cancel": true}` cancels the row of that kind and key instead.

Guarantees: fire times are computed with zoneinfo (`timecalc`), so 09:00 stays 09:00 local
across DST, a missing local time moves to the next valid minute and a repeated one fires once.
Nothing non-urgent goes out in quiet hours (it is deferred to the next allowed minute); paused,
opted-out and discharged patients get nothing; a fire missed by more than the grace window is
skipped and logged. Each process claims due rows with SKIP LOCKED and fires, logs and re-arms
them in one transaction, so a row fires once across processes and restarts.
"""
