"""Weeks as the dashboard counts them: calendar weeks from Monday 00:00 UTC, and whole weeks
since a participant's enrolment (capped at half a year)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

WEEK = timedelta(days=7)
MAX_WEEKS = 26


def monday(at: datetime) -> datetime:
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def week_name(start: datetime) -> str:
    return f"{start:%b} {start.day}"
