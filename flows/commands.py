"""Recognise patient scheduling commands ("time 8am", "pausa 7 días", "resume")."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Final

from flows.timeofday import normalize_text, parse_time_of_day

__all__ = ["MAX_PAUSE_DAYS", "Command", "Pause", "Resume", "SetCheckinTime", "parse_command"]

MAX_PAUSE_DAYS: Final = 90


@dataclass(frozen=True)
class SetCheckinTime:
    at: datetime.time


@dataclass(frozen=True)
class Pause:
    days: int | None  # None = until resumed


@dataclass(frozen=True)
class Resume:
    pass


Command = SetCheckinTime | Pause | Resume

# normalize_text has already folded case, accents and "check-in" -> "check in".
_SET_TIME = re.compile(r"(?:time|checkin|check in|hora)(?: (?:to|at|a las|a la))? (.+)")
# Digits are capped at three so a pasted giant number never reaches int().
_PAUSE = re.compile(
    r"(?:pause|pausa)(?: (?:for|por))?"
    r"(?: ([0-9]{1,3}) ?(day|days|d|dia|dias|week|weeks|semana|semanas)?)?"
)
_RESUME: Final = frozenset({"resume", "unpause", "reanudar", "continuar"})
_WEEK_UNITS: Final = frozenset({"week", "weeks", "semana", "semanas"})


def parse_command(text: str) -> Command | None:
    """Parse a whole message as a scheduling command, or return ``None``.

    The command must be the entire message (case and accents are ignored, trailing
    punctuation is tolerated), so ordinary messages such as "time is hard" are left alone.
    A pause must be 1-90 days; ``Pause(None)`` means until the patient resumes.
    """
    s = normalize_text(text)
    if s in _RESUME:
        return Resume()
    if m := _PAUSE.fullmatch(s):
        if m.group(1) is None:
            # "pause for" with no number is incomplete rather than open-ended.
            return Pause(None) if s in ("pause", "pausa") else None
        days = int(m.group(1)) * (7 if m.group(2) in _WEEK_UNITS else 1)
        return Pause(days) if 1 <= days <= MAX_PAUSE_DAYS else None
    if m := _SET_TIME.fullmatch(s):
        at = parse_time_of_day(m.group(1))
        return SetCheckinTime(at) if at is not None else None
    return None
