"""Typed answers: numbers in digits or words (English and Spanish), with everyday hedges."""

from __future__ import annotations

import pytest

from flows.answers import number_from_words, parse_integer, parse_numbers


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("seven", 7),
        ("Seven.", 7),
        ("SEVEN!", 7),
        ("about seven", 7),
        ("I'd say seven", 7),
        ("seven out of ten", 7),
        ("7/10", 7),
        ("7 de 10", 7),
        ("siete", 7),
        ("Siete", 7),
        ("unos siete", 7),
        ("zero", 0),
        ("cero", 0),
        ("ten", 10),
        ("diez", 10),
        ("nine", 9),
        ("nueve", 9),
    ],
)
def test_small_numbers_in_words_and_digits(said: str, value: int) -> None:
    assert parse_integer(said, 0, 10) == value


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("seventy", 70),
        ("twenty five", 25),
        ("twenty-five", 25),
        ("forty and five", 45),
        ("a hundred", 100),
        ("one hundred", 100),
        ("cien", 100),
        ("treinta y cinco", 35),
        ("veinticinco", 25),
        ("veintidós", 22),
        ("dieciséis", 16),
        ("noventa y nueve", 99),
        ("around 60", 60),
        ("como 40", 40),
    ],
)
def test_suds_sized_numbers(said: str, value: int) -> None:
    assert parse_integer(said, 0, 100) == value


@pytest.mark.parametrize(
    "said",
    ["eleven", "twenty", "a lot", "seven hundred", "treinta y", "y cinco", "", "sevenish", "7 8"],
)
def test_out_of_range_or_unclear_is_not_a_number(said: str) -> None:
    assert parse_integer(said, 0, 10) is None


def test_tens_take_only_a_single_unit() -> None:
    assert number_from_words("twenty twelve") is None
    assert number_from_words("sesenta y diez") is None
    assert number_from_words("thirty") == 30


@pytest.mark.parametrize(
    ("said", "picked"),
    [
        ("1 3", [1, 3]),
        ("1, 3", [1, 3]),
        ("1 and 3", [1, 3]),
        ("3 y 1", [1, 3]),
        ("two", [2]),
        ("uno y tres", [1, 3]),
        ("none", []),
        ("NINGUNA", []),
        ("all", [1, 2, 3, 4, 5]),
        ("todas", [1, 2, 3, 4, 5]),
    ],
)
def test_numbers_picked_from_a_list(said: str, picked: list[int]) -> None:
    assert parse_numbers(said, 1, 5) == picked


@pytest.mark.parametrize("said", ["1 9", "the first", "", "some of them"])
def test_numbers_off_the_list_are_not_understood(said: str) -> None:
    assert parse_numbers(said, 1, 5) is None
