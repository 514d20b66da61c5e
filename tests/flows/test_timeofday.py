from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.timeofday import normalize_text, parse_time_of_day

CASES: list[tuple[str, time | None]] = [
    # bare hours: 1-11 morning, 12 noon, 13-23 unambiguous 24-hour
    ("8", time(8)),
    ("1", time(1)),
    ("11", time(11)),
    ("12", time(12)),
    ("13", time(13)),
    ("23", time(23)),
    # am / pm in their many spellings
    ("8am", time(8)),
    ("8 am", time(8)),
    ("8 a.m.", time(8)),
    ("8 A.M.", time(8)),
    ("8 a. m.", time(8)),
    ("8AM", time(8)),
    ("9 pm", time(21)),
    ("9pm", time(21)),
    ("9 p.m.", time(21)),
    ("8p", time(20)),
    ("12am", time(0)),
    ("12pm", time(12)),
    ("8:30pm", time(20, 30)),
    ("8:30 am", time(8, 30)),
    ("830pm", time(20, 30)),
    ("11:59 pm", time(23, 59)),
    # 24-hour forms
    ("8:30", time(8, 30)),
    ("08:30", time(8, 30)),
    ("20:00", time(20)),
    ("00:00", time(0)),
    ("0:15", time(0, 15)),
    ("23:59", time(23, 59)),
    ("20h", time(20)),
    ("20 h", time(20)),
    ("8h", time(8)),
    ("20h30", time(20, 30)),
    ("20.30", time(20, 30)),
    ("20 horas", time(20)),
    # named times
    ("noon", time(12)),
    ("Noon!", time(12)),
    ("midday", time(12)),
    ("midnight", time(0)),
    ("mediodía", time(12)),
    ("mediodia", time(12)),
    ("medianoche", time(0)),
    ("12 noon", time(12)),
    ("12 del mediodía", time(12)),
    # Spanish periods
    ("8 de la mañana", time(8)),
    ("8 de la manana", time(8)),
    ("8 de la tarde", time(20)),
    ("4 de la tarde", time(16)),
    ("8 de la noche", time(20)),
    ("12 de la noche", time(0)),
    ("3 de la madrugada", time(3)),
    ("8 por la noche", time(20)),
    ("8:30 de la noche", time(20, 30)),
    # Spanish fractions
    ("8 y media", time(8, 30)),
    ("9 y cuarto", time(9, 15)),
    ("9 menos cuarto", time(8, 45)),
    ("8 y 10", time(8, 10)),
    ("ocho y media de la noche", time(20, 30)),
    ("nueve", time(9)),
    ("las 8", time(8)),
    ("a las 8", time(8)),
    ("a las nueve y media", time(9, 30)),
    ("ocho treinta", time(8, 30)),
    # English words and fillers
    ("nine", time(9)),
    ("Nine", time(9)),
    ("nine thirty", time(9, 30)),
    ("nine forty-five", time(9, 45)),
    ("nine oh five", time(9, 5)),
    ("seven thirty pm", time(19, 30)),
    ("twelve", time(12)),
    ("half past 8", time(8, 30)),
    ("quarter past nine", time(9, 15)),
    ("quarter to nine", time(8, 45)),
    ("at 8", time(8)),
    ("around 8am", time(8)),
    ("about 7pm", time(19)),
    ("8 o'clock", time(8)),
    ("8 o’clock", time(8)),
    ("8ish", time(8)),
    ("8 in the morning", time(8)),
    ("8 in the evening", time(20)),
    ("3 in the afternoon", time(15)),
    ("10 at night", time(22)),
    ("9 tonight", time(21)),
    ("  8AM.  ", time(8)),
    # unclear or invalid
    ("25:00", None),
    ("24:00", None),
    ("8:75", None),
    ("8:5", None),
    ("tomorrow", None),
    ("", None),
    ("   ", None),
    ("13pm", None),
    ("0am", None),
    ("20:00 pm", None),
    ("abc", None),
    ("0", None),
    ("-8", None),
    ("100", None),
    ("0830", None),
    ("12 in the morning", None),
    ("8 midnight", None),
    ("five to nine", None),
    ("8 to 9", None),
    ("nine five", None),
    ("time is hard", None),
    ("at", None),
    ("pm", None),
    ("de la noche", None),
    ("8 de la madrugada", None),
    ("twenty", None),
    ("٨", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_time_of_day_table(text: str, expected: time | None) -> None:
    assert parse_time_of_day(text) == expected


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 60


def test_normalize_text_strips_accents_and_dotted_am() -> None:
    assert normalize_text("  Mañana A.M.!  ") == "manana am"
    assert normalize_text("check-in") == "check in"
    assert normalize_text("pause -1") == "pause -1"


@given(st.text(max_size=40))
def test_never_raises(text: str) -> None:
    result = parse_time_of_day(text)
    assert result is None or (result.tzinfo is None and result.second == 0)


@given(st.integers(0, 23), st.integers(0, 59))
def test_every_24h_clock_round_trips(hour: int, minute: int) -> None:
    assert parse_time_of_day(f"{hour:02d}:{minute:02d}") == time(hour, minute)
    assert parse_time_of_day(f"{hour}:{minute:02d}") == time(hour, minute)


@given(st.integers(1, 12), st.integers(0, 59), st.sampled_from(["am", "pm"]))
def test_every_12h_clock_round_trips(hour: int, minute: int, suffix: str) -> None:
    expected = hour % 12 + (12 if suffix == "pm" else 0)
    assert parse_time_of_day(f"{hour}:{minute:02d} {suffix}") == time(expected, minute)


_TOKENS = [
    "8",
    "12",
    "0",
    ":",
    ".",
    "30",
    "am",
    "pm",
    "a.m.",
    "h",
    "y",
    "menos",
    "media",
    "to",
    "past",
    "quarter",
    "nine",
    "oh",
    "las",
    "at",
    "-",
    "noon",
    "99",
    "de la noche",
    " ",
]


@given(st.lists(st.sampled_from(_TOKENS), max_size=8))
def test_never_raises_on_time_like_noise(tokens: list[str]) -> None:
    result = parse_time_of_day(" ".join(tokens))
    assert result is None or result.tzinfo is None
