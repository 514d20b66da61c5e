"""Typed answers to questions: parse what a patient typed into a value, or None to re-ask.

Every parser accepts English and Spanish whatever the patient's locale: people mix languages.
"""

from __future__ import annotations

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
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3,
    "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}  # fmt: skip


def fold(text: str) -> str:
    """Lower case, accents stripped, punctuation turned to spaces, spaces collapsed."""
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
    folded = fold(text)
    match = re.fullmatch(r"(?:i d say |i would say |maybe |about |like |un |una |como )?(-?\d{1,4})"
                         r"(?: ?(?:/|out of|de) ?\d{1,3})?", folded)  # fmt: skip
    if match:
        value = int(match.group(1))
    elif folded in _NUMBER_WORDS:
        value = _NUMBER_WORDS[folded]
    else:
        return None
    return value if low <= value <= high else None


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
