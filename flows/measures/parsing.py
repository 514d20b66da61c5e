"""Reading a patient's free-text reply to a 0-3 measure item.

A reply counts only when everything recognisable in it points to one answer: a single digit 0-3,
an option's words (English or Spanish, any case, with or without accents, small misspellings
allowed), or a number word. Anything else, including two different answers, a number outside
0-3 ("4", "-1", "2.5", "12"), a count ("2 days") or a negated answer ("not every day"), gives
None so the flow asks again rather than guessing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from itertools import pairwise

# Both languages are always checked, whatever the patient's locale: people switch languages and
# phones autocorrect. Phrases are stored lower-case and without accents (the text is folded alike).
_OPTION_PHRASES: Mapping[int, tuple[str, ...]] = {
    0: (
        "not at all", "none", "never", "no", "nope", "zero", "none of the days", "no days",
        "para nada", "nada", "ningun dia", "ninguno", "ninguna", "nunca", "en absoluto", "cero",
    ),
    1: (
        "several days", "some days", "a few days", "one",
        "varios dias", "algunos dias", "unos dias", "unos cuantos dias", "pocos dias", "uno",
    ),
    2: (
        "more than half the days", "more than half", "over half the days", "over half", "two",
        "mas de la mitad de los dias", "mas de la mitad", "dos",
    ),
    3: (
        "nearly every day", "almost every day", "every day", "every single day", "daily",
        "all the time", "always", "three",
        "casi todos los dias", "casi todos", "todos los dias", "casi diario", "casi a diario",
        "a diario", "diario", "casi cada dia", "cada dia", "siempre", "todo el tiempo", "tres",
    ),
}  # fmt: skip

_DIFFICULTY_PHRASES: Mapping[int, tuple[str, ...]] = {
    0: (
        "not difficult at all", "not difficult", "not at all", "none", "no", "zero",
        "no ha sido dificil", "nada dificil", "para nada", "nada", "cero",
    ),
    1: (
        "somewhat difficult", "somewhat", "a little difficult", "a little", "a bit", "slightly",
        "one", "un poco dificil", "un poco", "algo dificil", "algo", "uno",
    ),
    2: ("very difficult", "very", "two", "muy dificil", "muy", "dos"),
    3: (
        "extremely difficult", "extremely", "three",
        "extremadamente dificil", "extremadamente", "tres",
    ),
}  # fmt: skip

# A non-zero answer right after one of these ("not every day", "nunca muy dificil") is not that
# answer, and we cannot tell which one it is instead.
_NEGATIONS = frozenset({"not", "no", "never", "hardly", "barely", "nor", "ni", "nunca", "apenas"})

# "2 days" is a count of days (which would be "Several days"), not option 2: ask again.
_NUMBER_WORDS = frozenset({"zero", "one", "two", "three", "cero", "uno", "dos", "tres"})
_COUNT_UNITS = frozenset(
    {"day", "days", "dia", "dias", "time", "times", "vez", "veces", "week", "weeks", "semana"}
    | {"semanas", "hour", "hours", "hora", "horas", "night", "nights", "noche", "noches"}
)

# Longer replies are conversation, not an answer; the cap also bounds the fuzzy matching work.
_MAX_CHARS = 400
_MAX_TOKENS = 40

_NUMBER = re.compile(r"\d+")
_TOKEN = re.compile(r"[a-z0-9]+")
_MINUS_SIGNS = "-\u2212"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _allowed_edits(phrase: str) -> int:
    # Short words must match exactly: one edit turns "no" into "na" and "dos" into "do".
    if len(phrase) <= 5:
        return 0
    return 1 if len(phrase) <= 9 else 2


def _within(a: str, b: str, limit: int) -> bool:
    """Optimal-string-alignment distance <= limit (a swap of neighbours counts as one edit)."""
    if abs(len(a) - len(b)) > limit:
        return False
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return False
        prev2, prev = prev, cur
    return prev[len(b)] <= limit


def _numbers(folded: str) -> set[int] | None:
    """Digit answers in the text, or None if any number there is not a plain 0-3."""
    found: set[int] = set()
    for match in _NUMBER.finditer(folded):
        start, end = match.span()
        if folded[end : end + 1] in (".", ",") and folded[end + 1 : end + 2].isdigit():
            return None  # a decimal such as 2.5 or 2,5
        before = folded[start - 1 : start]
        if before and before in _MINUS_SIGNS:
            two_before = folded[start - 2 : start - 1]
            if not two_before or not two_before.isalnum():
                return None  # a negative number; "2-3" is caught as two answers instead
        digits = match.group().lstrip("0") or "0"
        # Checking length first avoids int() on absurdly long digit strings.
        if len(digits) > 1 or int(digits) > 3:
            return None
        found.add(int(digits))
    return found


def _phrase_answers(tokens: list[str], table: Mapping[int, tuple[str, ...]]) -> set[int] | None:
    """Answers named by words, or None if a non-zero answer is negated."""
    found: set[int] = set()
    for value, phrases in table.items():
        for phrase in phrases:
            limit = _allowed_edits(phrase)
            n = phrase.count(" ") + 1
            # Spaces are ignored and windows may be shorter than the phrase, so "everyday" and
            # "notatall" match; a fuzzy phrase may also absorb one stray extra token.
            target = phrase.replace(" ", "")
            for k in range(1, n + (2 if limit else 1)):
                for i in range(len(tokens) - k + 1):
                    candidate = "".join(tokens[i : i + k])
                    if candidate == target or (limit and _within(candidate, target, limit)):
                        if value and i and tokens[i - 1] in _NEGATIONS:
                            return None
                        found.add(value)
    return found


def _parse(text: str, table: Mapping[int, tuple[str, ...]]) -> int | None:
    if not isinstance(text, str) or len(text) > _MAX_CHARS:
        return None
    folded = _fold(text)
    numbers = _numbers(folded)
    if numbers is None:
        return None
    all_tokens = _TOKEN.findall(folded)
    if len(all_tokens) > _MAX_TOKENS:
        return None
    for token, following in pairwise(all_tokens):
        if (token.isdigit() or token in _NUMBER_WORDS) and following in _COUNT_UNITS:
            return None
    tokens = [t for t in all_tokens if not t.isdigit()]
    words = _phrase_answers(tokens, table)
    if words is None:
        return None
    answers = numbers | words
    return answers.pop() if len(answers) == 1 else None


def parse_option(text: str, locale: str = "en") -> int | None:
    """The 0-3 frequency answer in a reply, or None when it is missing, invalid or ambiguous.

    English and Spanish are both accepted whatever `locale` is (kept for callers that know it).
    "no", "none", "never", "nunca" and "nada" count as 0 ("Not at all"); "every day", "daily",
    "always" and "siempre" as 3; "some days" / "algunos dias" as 1; number words as their digit.
    """
    del locale  # both languages are always checked
    return _parse(text, _OPTION_PHRASES)


def parse_difficulty(text: str, locale: str = "en") -> int | None:
    """The 0-3 answer to the PHQ-9 difficulty question, or None (same rules as parse_option)."""
    del locale
    return _parse(text, _DIFFICULTY_PHRASES)
