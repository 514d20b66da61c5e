"""PHQ-9 item 9: only a clear "not at all" is 0; an unclear reply counts as positive."""

from __future__ import annotations

import pytest

from flows.measures import Item9Answer, parse_item9

CLEAR_ZERO = [
    "0", "not at all", "Not at all.", "never", "Never!", "no", "No, never", "nope", "none",
    "not once", "never ever", "definitely not", "nunca", "Nunca jamás", "para nada",
    "ningún día", "ningun dia", "en absoluto", "no, para nada", "cero",
]  # fmt: skip
UNCLEAR = [
    "maybe a bit", "sometimes", "once or twice", "I wouldn't say never", "I wouldnt say never",
    "not really", "kind of", "kinda", "idk", "I don't know", "not sure", "a little", "rarely",
    "hardly ever", "yes", "yeah", "I have", "casi nunca", "a veces", "puede ser", "no sé",
    "un poco", "tal vez", "quizás", "alguna vez", "de vez en cuando", "sí", "2 days",
    "not every day", "no thanks",
]  # fmt: skip


@pytest.mark.parametrize("text", CLEAR_ZERO)
def test_clear_zero(text: str) -> None:
    assert parse_item9(text) == Item9Answer(0, False)


@pytest.mark.parametrize("text", UNCLEAR)
def test_unclear_counts_as_several_days_and_is_marked(text: str) -> None:
    assert parse_item9(text) == Item9Answer(1, True)


@pytest.mark.parametrize(
    ("text", "value", "interpreted"),
    [("1", 1, False), ("2", 2, False), ("3", 3, False), ("several days", 1, False),
     ("more than half the days", 2, False), ("nearly every day", 3, False),
     ("casi todos los días", 3, False), ("maybe nearly every day", 3, True),
     ("más de la mitad de los días", 2, False)],
)  # fmt: skip
def test_a_clear_higher_option_keeps_its_value(text: str, value: int, interpreted: bool) -> None:
    assert parse_item9(text) == Item9Answer(value, interpreted)


@pytest.mark.parametrize("text", ["what?", "hmm", "ok", "🙂", "can you repeat the question", "",
                                  "skip", "x" * 500])  # fmt: skip
def test_no_answer_at_all_is_asked_again(text: str) -> None:
    assert parse_item9(text) is None
