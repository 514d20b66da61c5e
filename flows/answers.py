"""Typed answers to questions: parse what a patient typed into a value, or None to re-ask.

Every parser accepts English and Spanish whatever the patient's locale: people mix languages.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flows.safety.country import parse_country
from flows.timeofday import parse_time_of_day

_YES = {
    "yes", "y", "yeah", "yea", "yep", "yup", "ya", "sure", "ok", "okay", "k", "of course",
    "definitely", "absolutely", "i agree", "agree", "i do", "yes please", "please", "correct",
    "right", "alright", "all right", "si", "sip", "claro", "vale", "dale", "por supuesto",
    "de acuerdo", "acepto", "si acepto", "yes i agree", "\U0001f44d", "\u2705",
}  # fmt: skip
_NO = {
    "no", "n", "nope", "nah", "no thanks", "no thank you", "not really", "not now", "i dont",
    "i do not", "dont", "never", "negative", "no gracias", "nop", "para nada", "tampoco",
    "no acepto", "\U0001f44e", "\u274c",
}  # fmt: skip
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "none": 0, "nothing": 0, "nil": 0, "a hundred": 100, "one hundred": 100,
    "hundred": 100,
    "cero": 0, "uno": 1, "un": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
    "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17,
    "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintiun": 21,
    "veintiuna": 21, "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29, "cien": 100,
    "ninguno": 0, "nada": 0,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "treinta": 30, "cuarenta": 40, "cincuenta": 50,
    "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
}  # fmt: skip
_HEDGES = (
    r"(?:i d say |i would say |i guess |maybe |about |around |like |probably |roughly |"
    r"it s |its |it was |un |una |como |unos |unas |sobre |quizas |quiza |tal vez |creo que |"
    r"diria |yo diria |mas o menos |fue |es )*"
)
_NUMBER = re.compile(_HEDGES + r"(?P<n>-?\d{1,4}|[a-z ]+?)(?: (?:out of|over|de|sobre) "
                     r"(?:\d{1,3}|ten|diez|a hundred|one hundred|hundred|cien))?")  # fmt: skip


def number_from_words(folded: str) -> int | None:
    """0-100 written in English or Spanish words ("seven", "twenty five", "treinta y cinco")."""
    if folded in _UNITS:
        return _UNITS[folded]
    if folded in _TENS:
        return _TENS[folded]
    words = folded.split()
    if len(words) == 2 and words[0] in _TENS and _UNITS.get(words[1], 0) in range(1, 10):
        return _TENS[words[0]] + _UNITS[words[1]]
    if len(words) == 3 and words[0] in _TENS and words[1] in {"y", "and"}:
        unit = _UNITS.get(words[2], 0)
        return _TENS[words[0]] + unit if 1 <= unit <= 9 else None
    return None


def fold(text: str) -> str:
    """Lower case, accents stripped, punctuation turned to spaces, spaces collapsed."""
    # Option labels and synonyms are folded again for every reply they are matched against:
    # short strings come from a bounded cache, a patient's long messages are folded as they are.
    return _fold_short(text) if len(text) <= _SHORT else _fold(text)


_SHORT = 64


@functools.lru_cache(maxsize=8192)
def _fold_short(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[^\w\s\U0001f300-\U0001faff\u2705\u274c]", " ", plain)
    return " ".join(plain.split())


@dataclass(frozen=True)
class Option:
    value: str
    label: str  # text key, rendered per locale
    synonyms: Mapping[str, Sequence[str]] = field(default_factory=dict)  # locale -> words


def parse_yes_no(text: str) -> bool | None:
    folded = fold(text)
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    words = folded.split()
    # "yes I do", "no, not today": the first word decides when it is unambiguous.
    if words and words[0] in {"yes", "yeah", "yep", "si", "claro", "sure", "ok", "okay"}:
        return None if any(w in {"no", "not", "nope"} for w in words[1:]) else True
    if words and words[0] in {"no", "nope", "nah"}:
        return False
    return None


def parse_integer(text: str, low: int, high: int) -> int | None:
    """A whole number in digits or words, with hedges ("about 7", "seven out of ten")."""
    match = _NUMBER.fullmatch(fold(text.replace("/", " out of ")))
    if match is None:
        return None
    raw = match.group("n").strip()
    value = int(raw) if re.fullmatch(r"-?\d+", raw) else number_from_words(raw)
    if value is None:
        return None
    return value if low <= value <= high else None


_NONE_PICKED = {
    "none", "no", "nothing", "neither", "none of them", "0", "ninguna", "ninguno", "nada",
    "ninguna de ellas", "ninguno de ellos", "cero",
}  # fmt: skip
_ALL_PICKED = {
    "all",
    "all of them",
    "both",
    "todas",
    "todos",
    "ambas",
    "ambos",
    "las dos",
    "los dos",
}


def parse_numbers(text: str, low: int, high: int) -> list[int] | None:
    """Numbers picked from a list ("1 3", "2 and 4", "1, 3", "NONE" = [], "all"), or None."""
    folded = fold(text)
    if folded in _NONE_PICKED:
        return []
    if folded in _ALL_PICKED:
        return list(range(low, high + 1))
    words = [w for w in folded.split() if w not in {"and", "y", "e", "&"}]
    picked = set()
    for word in words:
        value = int(word) if word.isdigit() else number_from_words(word)
        if value is None or not low <= value <= high:
            return None
        picked.add(value)
    return sorted(picked) or None


def parse_choice(
    text: str, payload: str | None, options: Sequence[Option], labels: Mapping[str, str]
) -> str | None:
    """`labels` maps each option's label key to its rendered text in the patient's locale."""
    values = [o.value for o in options]
    if payload is not None and payload in values:
        return payload
    folded = fold(text)
    if folded.isdigit() and 1 <= int(folded) <= len(options):
        return options[int(folded) - 1].value
    for option in options:
        names = {fold(option.value), fold(labels.get(option.label, ""))}
        for words in option.synonyms.values():
            names.update(fold(w) for w in words)
        names.discard("")
        if folded in names:
            return option.value
    return None


def parse_free_text(text: str, max_length: int) -> str | None:
    cleaned = " ".join(text.split())
    if not cleaned:
        return None
    return cleaned[:max_length]


def parse_answer(
    kind: str,
    text: str,
    payload: str | None,
    spec: Mapping[str, Any],
    labels: Mapping[str, str],
) -> Any:
    """Parse by answer `kind`; None means "not understood"."""
    if kind == "yes_no":
        return (
            parse_yes_no(payload if payload in {"yes", "no"} else text)
            if payload
            else parse_yes_no(text)
        )
    if kind == "integer":
        return parse_integer(payload or text, int(spec["min"]), int(spec["max"]))
    if kind == "numbers":
        return parse_numbers(payload or text, int(spec["min"]), int(spec["max"]))
    if kind == "choice":
        return parse_choice(text, payload, spec["options"], labels)
    if kind == "text":
        return parse_free_text(text, int(spec.get("max_length", 500)))
    if kind == "time":
        parsed = parse_time_of_day(text)
        return None if parsed is None else parsed.strftime("%H:%M")
    if kind == "country":
        return parse_country(payload or text)
    raise ValueError(f"unknown answer type {kind!r}")
