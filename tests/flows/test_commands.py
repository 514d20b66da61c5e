from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.commands import Command, Pause, Resume, SetCheckinTime, parse_command

CASES: list[tuple[str, Command | None]] = [
    ("time 8am", SetCheckinTime(time(8))),
    ("time 20:30", SetCheckinTime(time(20, 30))),
    ("TIME 8AM", SetCheckinTime(time(8))),
    ("Time 9 p.m.", SetCheckinTime(time(21))),
    ("time at 7", SetCheckinTime(time(7))),
    ("time to 7pm", SetCheckinTime(time(19))),
    ("checkin 9am", SetCheckinTime(time(9))),
    ("check-in 9am", SetCheckinTime(time(9))),
    ("check in 9am", SetCheckinTime(time(9))),
    ("Checkin nine thirty", SetCheckinTime(time(9, 30))),
    ("hora 8", SetCheckinTime(time(8))),
    ("hora 8 de la noche", SetCheckinTime(time(20))),
    ("Hora a las 8 y media", SetCheckinTime(time(8, 30))),
    ("hora mediodía", SetCheckinTime(time(12))),
    ("  time 8am.  ", SetCheckinTime(time(8))),
    ("pause 7", Pause(7)),
    ("pause 7 days", Pause(7)),
    ("pause 1 day", Pause(1)),
    ("pause 7d", Pause(7)),
    ("pause for 3 days", Pause(3)),
    ("pause 2 weeks", Pause(14)),
    ("pause 90", Pause(90)),
    ("PAUSE 7!", Pause(7)),
    ("pausa 7", Pause(7)),
    ("pausa 7 días", Pause(7)),
    ("pausa 7 dias", Pause(7)),
    ("pausa por 5 días", Pause(5)),
    ("pausa 1 semana", Pause(7)),
    ("pause", Pause(None)),
    ("Pausa", Pause(None)),
    ("pause.", Pause(None)),
    ("resume", Resume()),
    ("RESUME", Resume()),
    ("unpause", Resume()),
    ("reanudar", Resume()),
    ("continuar", Resume()),
    ("Continuar!", Resume()),
    # invalid commands
    ("pause 0", None),
    ("pause -1", None),
    ("pause 400", None),
    ("pause 91", None),
    ("pause 13 weeks", None),
    ("pause 99999999999999999999", None),
    ("pause 7 months", None),
    ("pause for", None),
    ("pause seven", None),
    ("time 25:00", None),
    ("time 13pm", None),
    ("time", None),
    ("hora", None),
    ("time tomorrow", None),
    # ordinary messages are untouched
    ("time is hard", None),
    ("time to go", None),
    ("I need a pause", None),
    ("please pause 7", None),
    ("pause 7 please", None),
    ("resume later", None),
    ("continue", None),
    ("8am", None),
    ("hola", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_command_table(text: str, expected: Command | None) -> None:
    assert parse_command(text) == expected


@given(st.text(max_size=40))
def test_never_raises(text: str) -> None:
    result = parse_command(text)
    assert result is None or isinstance(result, SetCheckinTime | Pause | Resume)


@given(st.integers(-1000, 1000))
def test_pause_days_are_bounded(days: int) -> None:
    result = parse_command(f"pause {days}")
    if 1 <= days <= 90:
        assert result == Pause(days)
    else:
        assert result is None
