from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.measures import parse_difficulty, parse_option
from flows.measures.parsing import _DIFFICULTY_PHRASES, _OPTION_PHRASES

OPTION_CASES = [
    # digits, with the decoration people add
    ("0", 0),
    ("1", 1),
    ("2", 2),
    ("3", 3),
    ("2.", 2),
    (" 2 ", 2),
    ("option 2", 2),
    ("Option 3", 3),
    ("opción 1", 1),
    ("2 - more than half", 2),
    ("3) nearly every day", 3),
    ("#1", 1),
    ("+1", 1),
    ("0!", 0),
    ("03", 3),
    ("２", 2),  # full-width digit from some keyboards
    ("1 several days", 1),
    ("3 3", 3),
    # English option words, any case
    ("Not at all", 0),
    ("NOT AT ALL", 0),
    ("not at all.", 0),
    ("Several days", 1),
    ("several days", 1),
    ("More than half the days", 2),
    ("more than half", 2),
    ("Nearly every day", 3),
    ("nearly every day!", 3),
    # misspellings and run-together words
    ("not at al", 0),
    ("notatall", 0),
    ("not a all", 0),
    ("sevral days", 1),
    ("severl days", 1),
    ("sevreal days", 1),
    ("several day", 1),
    ("more then half", 2),
    ("mor than half", 2),
    ("more than half of the days", 2),
    ("nearly everyday", 3),
    ("neary every day", 3),
    ("nearley every day", 3),
    ("nearlyeveryday", 3),
    ("everyday", 3),
    # other plain answers (documented choices)
    ("never", 0),
    ("none", 0),
    ("no", 0),
    ("No.", 0),
    ("nope", 0),
    ("zero", 0),
    ("some days", 1),
    ("a few days", 1),
    ("one", 1),
    ("two", 2),
    ("over half the days", 2),
    ("every day", 3),
    ("every single day", 3),
    ("daily", 3),
    ("always", 3),
    ("all the time", 3),
    ("three", 3),
    ("I'd say several days", 1),
    ("honestly nearly every day, it's been rough", 3),
    # Spanish, with and without accents
    ("para nada", 0),
    ("Para nada", 0),
    ("nada", 0),
    ("nunca", 0),
    ("ningún día", 0),
    ("ningun dia", 0),
    ("en absoluto", 0),
    ("cero", 0),
    ("varios dias", 1),
    ("Varios días", 1),
    ("VARIOS DÍAS", 1),
    ("barios dias", 1),
    ("algunos días", 1),
    ("unos dias", 1),
    ("uno", 1),
    ("mas de la mitad", 2),
    ("Más de la mitad de los días", 2),
    ("mas de la mita", 2),
    ("dos", 2),
    ("casi todos los dias", 3),
    ("Casi todos los días", 3),
    ("casi todos", 3),
    ("casi diario", 3),
    ("casi a diario", 3),
    ("todos los días", 3),
    ("a diario", 3),
    ("siempre", 3),
    ("tres", 3),
    ("casi todo los dias", 3),
    ("2 - más de la mitad", 2),
    # invalid: out of range, not numbers, not answers
    ("4", None),
    ("-1", None),
    ("−1", None),  # Unicode minus sign
    ("12", None),
    ("10", None),
    ("2.5", None),
    ("2,5", None),
    ("1000000000000000000000000", None),
    ("maybe", None),
    ("", None),
    ("   ", None),
    ("?", None),
    ("yes", None),
    ("sí", None),
    ("idk", None),
    ("hello", None),
    ("sometimes", None),
    ("a veces", None),
    ("most days", None),
    ("half", None),
    ("days", None),
    ("four", None),
    ("STOP", None),
    # ambiguous: two different answers, or a negated answer -> ask again
    ("two or three", None),
    ("2 or 3", None),
    ("2-3", None),
    ("1, 2", None),
    ("1 or several days", 1),
    ("1 - nearly every day", None),
    ("several days or more than half", None),
    ("not at all, well maybe several days", None),
    ("varios dias o casi todos los dias", None),
    ("not every day", None),
    ("not nearly every day", None),
    ("hardly every day", None),
    # counts of days or times are not option numbers
    ("2 days", None),
    ("two days", None),
    ("one day", None),
    ("3 times", None),
    ("1 día", None),
    ("tres veces", None),
    ("dos semanas", None),
    ("no, every day", None),
    ("no todos los días", None),
]


@pytest.mark.parametrize(("text", "expected"), OPTION_CASES)
def test_parse_option(text: str, expected: int | None) -> None:
    assert parse_option(text) == expected


@pytest.mark.parametrize(("text", "expected"), OPTION_CASES[:40])
def test_parse_option_ignores_locale(text: str, expected: int | None) -> None:
    assert parse_option(text, "es") == expected
    assert parse_option(text, "xx") == expected


def test_numbers_beyond_range_in_text_mean_ask_again() -> None:
    # A stray number outside 0-3 may be the real answer mistyped; do not guess.
    assert parse_option("nearly every day, like 5 times") is None
    assert parse_option("slept 10 hours several days") is None


def test_long_text_is_not_an_answer() -> None:
    assert parse_option("several days " + "and then I went to work " * 10) is None
    assert parse_option("2" + " " * 500) is None


@pytest.mark.parametrize(("value", "phrases"), sorted(_OPTION_PHRASES.items()))
def test_every_option_phrase_parses_to_its_own_value(value: int, phrases: tuple[str, ...]) -> None:
    # Also proves no two phrases of different values are within fuzzy distance of each other.
    for phrase in phrases:
        assert parse_option(phrase) == value, phrase
        assert parse_option(phrase.upper() + ".") == value, phrase


@pytest.mark.parametrize(("value", "phrases"), sorted(_DIFFICULTY_PHRASES.items()))
def test_every_difficulty_phrase_parses_to_its_own_value(
    value: int, phrases: tuple[str, ...]
) -> None:
    for phrase in phrases:
        assert parse_difficulty(phrase) == value, phrase


DIFFICULTY_CASES = [
    ("0", 0),
    ("3.", 3),
    ("option 1", 1),
    ("Not difficult at all", 0),
    ("not dificult at all", 0),
    ("not difficult", 0),
    ("not at all", 0),
    ("no", 0),
    ("Somewhat difficult", 1),
    ("somewhat", 1),
    ("somewat dificult", 1),
    ("a little", 1),
    ("a bit", 1),
    ("Very difficult", 2),
    ("very", 2),
    ("very very difficult", 2),
    ("verry difficult", 2),
    ("Extremely difficult", 3),
    ("extremly dificult", 3),
    ("extremely", 3),
    ("No ha sido difícil", 0),
    ("nada difícil", 0),
    ("para nada", 0),
    ("Un poco difícil", 1),
    ("un poco", 1),
    ("algo dificil", 1),
    ("Muy difícil", 2),
    ("muy dificil", 2),
    ("Extremadamente difícil", 3),
    ("extremadamente", 3),
    ("4", None),
    ("-2", None),
    ("maybe", None),
    ("", None),
    ("difficult", None),
    ("difícil", None),
    ("not very difficult", None),
    ("no muy dificil", None),
    ("somewhat or very", None),
    ("1 - very difficult", None),
    ("several days", None),
    ("nearly every day", None),
]


@pytest.mark.parametrize(("text", "expected"), DIFFICULTY_CASES)
def test_parse_difficulty(text: str, expected: int | None) -> None:
    assert parse_difficulty(text) == expected
    assert parse_difficulty(text, "es") == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_parse_option_never_raises_and_stays_in_range(text: str) -> None:
    assert parse_option(text) in (None, 0, 1, 2, 3)
    assert parse_difficulty(text, "es") in (None, 0, 1, 2, 3)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("0123456789 .,-−+abcdefghilmnorstuvyáéíñ")), max_size=60)
)
def test_parse_option_digit_heavy_text_stays_in_range(text: str) -> None:
    assert parse_option(text) in (None, 0, 1, 2, 3)


@given(st.integers(), st.sampled_from(["", " ", ".", "!"]))
def test_integers_parse_only_when_0_to_3(n: int, suffix: str) -> None:
    expected = n if 0 <= n <= 3 else None
    assert parse_option(f"{n}{suffix}") == expected
