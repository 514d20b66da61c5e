"""Parse a patient's free-text time of day (English and Spanish) into a wall-clock time."""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import Final

__all__ = ["normalize_text", "parse_time_of_day"]

# Period markers, longest phrases first so "in the evening" wins over "evening".
_PERIOD_SUFFIXES: Final[tuple[tuple[str, str], ...]] = (
    ("in the morning", "morning"),
    ("this morning", "morning"),
    ("in the afternoon", "afternoon"),
    ("this afternoon", "afternoon"),
    ("in the evening", "evening"),
    ("this evening", "evening"),
    ("at night", "night"),
    ("tonight", "night"),
    ("de la manana", "morning"),
    ("por la manana", "morning"),
    ("en la manana", "morning"),
    ("de la madrugada", "early"),
    ("de la tarde", "afternoon"),
    ("por la tarde", "afternoon"),
    ("en la tarde", "afternoon"),
    ("de la noche", "night"),
    ("por la noche", "night"),
    ("en la noche", "night"),
    ("del mediodia", "noon"),
    ("noon", "noon"),
    ("midnight", "midnight"),
    ("morning", "morning"),
    ("afternoon", "afternoon"),
    ("evening", "evening"),
    ("night", "night"),
    ("am", "am"),
    ("pm", "pm"),
)

_PREFIX_FILLERS: Final[tuple[str, ...]] = (
    "alrededor de las",
    "a eso de las",
    "como a las",
    "sobre las",
    "hacia las",
    "a las",
    "a la",
    "las",
    "la",
    "at about",
    "at around",
    "around",
    "about",
    "approximately",
    "approx",
    "at",
    "by",
    "~",
)
_SUFFIX_FILLERS: Final[tuple[str, ...]] = (
    "o'clock",
    "o clock",
    "oclock",
    "en punto",
    "or so",
    "ish",
)

_NAMED: Final[dict[str, datetime.time]] = {
    "noon": datetime.time(12),
    "midday": datetime.time(12),
    "mediodia": datetime.time(12),
    "el mediodia": datetime.time(12),
    "12 noon": datetime.time(12),
    "midnight": datetime.time(0),
    "medianoche": datetime.time(0),
    "la medianoche": datetime.time(0),
    "12 midnight": datetime.time(0),
}

_UNITS: Final[dict[str, int]] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS: Final[dict[str, int]] = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS: Final[dict[str, int]] = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_ES_HOURS: Final[dict[str, int]] = {
    "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
}  # fmt: skip
_ES_MINUTES: Final[dict[str, int]] = {
    "media": 30, "cuarto": 15, "cinco": 5, "diez": 10, "quince": 15, "veinte": 20,
    "veinticinco": 25, "treinta": 30, "cuarenta": 40, "cuarenta y cinco": 45, "cincuenta": 50,
}  # fmt: skip

_DOTTED_AMPM = re.compile(r"(?<![a-z])([ap])\s?\.\s?m\b\.?")
_STRIP_CHARS = re.compile(r"[,;!?¿¡\"()\[\]]")
_NON_DECIMAL_DOT = re.compile(r"(?<![0-9])\.|\.(?![0-9])")
_SPACES = re.compile(r"\s+")

_H24 = re.compile(r"([0-9]{1,2})\s?(?:h|hs|hrs|horas)")
_H24_MIN = re.compile(r"([0-9]{1,2})h([0-9]{2})")
_CLOCK = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})")
_BARE = re.compile(r"[0-9]{1,2}")
_COMPACT = re.compile(r"([0-9]{1,2})([0-9]{2})")
_SHORT_AMPM = re.compile(r"(.*[0-9])([ap])")
_ES_RELATIVE = re.compile(r"(.+?) (y|menos) (.+)")
_EN_RELATIVE = re.compile(r"(.+?) (past|after|to) (.+)")


def normalize_text(text: str) -> str:
    """Lower-case, strip accents and stray punctuation, and collapse whitespace.

    Shared with the command parser so both accept "Mañana"/"manana" and "A.M."/"am" alike.
    """
    s = unicodedata.normalize("NFKD", text)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    s = s.replace("’", "'").replace("‘", "'")
    s = _DOTTED_AMPM.sub(r"\1m", s)
    s = _STRIP_CHARS.sub(" ", s)
    # Keep dots only as decimal-style separators ("20.30"); sentence dots become spaces.
    s = _NON_DECIMAL_DOT.sub(" ", s)
    # Hyphens join words ("forty-five", "check-in") but a leading "-" on a number must survive.
    s = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", s)
    return _SPACES.sub(" ", s).strip()


def _strip_fillers(s: str) -> str:
    changed = True
    while changed and s:
        changed = False
        for filler in _PREFIX_FILLERS:
            if s.startswith(filler + " ") or (filler == "~" and s.startswith("~")):
                s = s[len(filler) :].strip()
                changed = True
                break
        for filler in _SUFFIX_FILLERS:
            if s.endswith(filler) and s != filler:
                s = s[: -len(filler)].strip()
                changed = True
                break
    return s


def _split_period(s: str) -> tuple[str, str | None]:
    for phrase, period in _PERIOD_SUFFIXES:
        if s.endswith(phrase):
            head = s[: -len(phrase)]
            # "am"/"pm" may be glued to the digits ("8pm"); words need a space before them.
            if phrase in ("am", "pm") and head[-1:].isdigit():
                return head, period
            if head.endswith(" "):
                return head.strip(), period
    short = _SHORT_AMPM.fullmatch(s)
    if short:
        return short.group(1), short.group(2) + "m"
    return s, None


def _en_number(words: str, *, allow_units: bool) -> int | None:
    """English number words 1-59 (units only when allowed: "nine five" is not a time)."""
    if words in _UNITS:
        return _UNITS[words] if allow_units else None
    if words in _TEENS:
        return _TEENS[words]
    parts = words.split(" ")
    if parts[0] in _TENS and len(parts) <= 2:
        if len(parts) == 1:
            return _TENS[parts[0]]
        if parts[1] in _UNITS:
            return _TENS[parts[0]] + _UNITS[parts[1]]
    if parts[0] in ("oh", "o") and len(parts) == 2 and parts[1] in _UNITS:
        return _UNITS[parts[1]]
    return None


def _hour_word(s: str) -> int | None:
    if _BARE.fullmatch(s):
        return int(s)
    if s in _ES_HOURS:
        return _ES_HOURS[s]
    value = _en_number(s, allow_units=True)
    return value if value is not None and value <= 12 else None


def _minute_word(s: str) -> int | None:
    if _BARE.fullmatch(s):
        return int(s)
    if s in _ES_MINUTES:
        return _ES_MINUTES[s]
    if s in ("half", "a half"):
        return 30
    if s in ("quarter", "a quarter"):
        return 15
    return _en_number(s, allow_units=True)


# A parsed clock: (hour, minute offset from the hour, whether the notation is 24-hour).
_Clock = tuple[int, int, bool]


def _parse_clock(s: str, period: str | None) -> _Clock | None:
    if m := _H24_MIN.fullmatch(s):
        return int(m.group(1)), int(m.group(2)), True
    if m := _H24.fullmatch(s):
        return int(m.group(1)), 0, True
    if m := _CLOCK.fullmatch(s):
        return int(m.group(1)), int(m.group(2)), True
    if _BARE.fullmatch(s):
        return int(s), 0, False
    # "830pm" is common in SMS; without am/pm "0830" is too easy to misread, so refuse it.
    if period in ("am", "pm") and (m := _COMPACT.fullmatch(s)):
        return int(m.group(1)), int(m.group(2)), False
    if (m := _ES_RELATIVE.fullmatch(s)) and (hour := _hour_word(m.group(1))) is not None:
        minute = _minute_word(m.group(3))
        if minute is None or not 0 < minute < 60:
            return None
        return hour, minute if m.group(2) == "y" else -minute, False
    if m := _EN_RELATIVE.fullmatch(s):
        minute = _minute_word(m.group(1))
        hour = _hour_word(m.group(3))
        if minute is None or hour is None or not 0 < minute < 60:
            return None
        # "five to nine" also reads as a range, so "to" only takes the unambiguous "quarter".
        if m.group(2) == "to" and m.group(1) not in ("quarter", "a quarter"):
            return None
        return hour, minute if m.group(2) in ("past", "after") else -minute, False
    words = s.split(" ")
    # "nine thirty", "nine oh five": the first word is the hour, the rest the minutes.
    if (hour := _hour_word(words[0])) is not None and not _BARE.fullmatch(words[0]):
        if len(words) == 1:
            return hour, 0, False
        rest = " ".join(words[1:])
        minute = _en_number(rest, allow_units=False)
        if minute is None and rest not in ("media", "cuarto"):
            minute = _ES_MINUTES.get(rest)  # "ocho treinta"
        if minute is not None:
            return hour, minute, False
    return None


def _resolve_hour(hour: int, is_24h: bool, period: str | None) -> int | None:
    if period is None:
        if is_24h:
            return hour if 0 <= hour <= 23 else None
        # A bare "0" is more likely a typo than midnight; a bare 13-23 can only mean 24-hour.
        return hour if 1 <= hour <= 23 else None
    if not 1 <= hour <= 12:
        return None
    if period in ("am", "morning"):
        if period == "morning" and hour == 12:
            return None  # "12 in the morning" is used for both noon and midnight.
        return 0 if hour == 12 else hour
    if period == "pm":
        return 12 if hour == 12 else hour + 12
    if period == "afternoon":
        return 12 if hour == 12 else hour + 12
    if period == "evening":
        return None if hour == 12 else hour + 12
    if period == "night":
        # "12 at night" is midnight, "2 at night" the small hours, "9 at night" the evening.
        if hour == 12:
            return 0
        return hour if hour <= 4 else hour + 12
    if period == "early":
        if hour == 12:
            return 0
        return hour if hour <= 6 else None
    if period == "noon":
        return 12 if hour == 12 else None
    if period == "midnight":
        return 0 if hour == 12 else None
    return None


def parse_time_of_day(text: str) -> datetime.time | None:
    """Parse a time of day such as "8am", "20:30", "nine thirty" or "8 de la noche".

    Returns a naive wall-clock ``datetime.time`` or ``None`` when the text is not clearly a
    time. A bare hour 1-11 means the morning unless an evening word says otherwise; "12" alone
    is noon; "H:MM" with an hour of 0-23 and no am/pm is 24-hour. Never raises.
    """
    s = _strip_fillers(normalize_text(text))
    if not s:
        return None
    if s in _NAMED:
        return _NAMED[s]
    s, period = _split_period(s)
    s = _strip_fillers(s)
    if not s:
        return None
    clock = _parse_clock(s, period)
    if clock is None:
        return None
    hour, minute, is_24h = clock
    if not -59 <= minute <= 59:
        return None
    resolved = _resolve_hour(hour, is_24h, period)
    if resolved is None:
        return None
    # Negative offsets ("nueve menos cuarto", "quarter to nine") borrow from the hour.
    total = (resolved * 60 + minute) % (24 * 60)
    return datetime.time(total // 60, total % 60)
