"""Reading an answer to PHQ-9 item 9 (thoughts of being better off dead or of self-harm).

Only a clear "not at all" scores 0. CLINICAL.md: any answer above 0 starts the risk response, and
an unclear reply ("maybe a bit", "once or twice", "I wouldn't say never", "casi nunca") must not
become a silent 0 or a re-ask loop that ends in nothing. So a reply that hedges, or mentions "never"
without being a plain never, counts as "several days" (1) and is marked interpreted; a reply that
clearly names a higher option keeps it. A reply with nothing answer-like in it ("what?") gives
None and is asked again.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flows.measures.parsing import parse_option

# A clear zero is a reply made only of these phrases ("no", "no, never", "not at all",
# "nunca, para nada"), compared as folded token sequences.
_CLEAR_ZERO = tuple(
    tuple(p.split())
    for p in (
        "0", "zero", "cero", "no", "nope", "nah", "never", "never ever", "not at all", "none",
        "none of the days", "no days", "not once", "not even once", "definitely not",
        "absolutely not", "not one day", "nunca", "jamas", "nunca jamas", "para nada", "nada",
        "ningun dia", "ninguno", "ninguna", "en absoluto", "ni un dia", "ni una vez",
        "not at all thankfully", "de ninguna manera", "para nada no",
    )
)  # fmt: skip

# Words that make a reply an (unclear) answer rather than noise: hedges, counts, yes-words and
# the zero words themselves when something else is said with them.
_ANSWER_WORDS = frozenset(
    {
        "maybe", "perhaps", "possibly", "probably", "bit", "little", "sometimes", "sometime",
        "occasionally", "once", "twice", "couple", "few", "some", "kind", "kinda", "sort", "sorta",
        "idk", "dunno", "unsure", "really", "hardly", "barely", "rarely", "seldom", "yes", "yeah",
        "yep", "yup", "ya", "lately", "recently", "depends", "guess", "wouldnt", "thought",
        "thoughts", "had", "have", "did", "often", "times", "day", "days", "never", "no", "not",
        "nope", "nah", "none", "zero", "one", "two", "three", "quizas", "quiza", "tal", "vez",
        "puede", "poco", "algo", "alguna", "algunas", "algunos", "veces", "casi", "nunca",
        "jamas", "nada", "si", "creo", "pense", "pensado", "dia", "dias", "rara", "raramente",
        "pocas", "poquito",
    }
)  # fmt: skip
_HEDGE_PHRASES = (
    "maybe", "perhaps", "a bit", "a little", "sometimes", "once or twice", "kind of", "sort of",
    "kinda", "sorta", "idk", "i dont know", "not sure", "not really", "hardly", "barely",
    "rarely", "wouldnt say never", "i guess", "quizas", "quiza", "tal vez", "puede ser",
    "no se", "un poco", "a veces", "casi nunca", "de vez en cuando", "alguna vez", "a lo mejor",
    "mas o menos", "creo que",
)  # fmt: skip


@dataclass(frozen=True)
class Item9Answer:
    value: int  # 0-3
    interpreted: bool  # True: an unclear reply read as positive (or a hedged option)


def _tokens(text: str) -> list[str]:
    # Apostrophes vanish first so "wouldn't" is one word, "wouldnt".
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", plain.replace("'", "").replace("\u2019", ""))


def _is_clear_zero(tokens: list[str]) -> bool:
    """True when the reply is nothing but clear-zero phrases, e.g. "no, never"."""
    i = 0
    while i < len(tokens):
        for phrase in sorted(_CLEAR_ZERO, key=len, reverse=True):
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            return False
    return bool(tokens)


def parse_item9(text: str) -> Item9Answer | None:
    """The item 9 answer in a reply: a clear zero, an option, an unclear reply read as 1, or
    None when nothing in the reply answers the question (ask again)."""
    if not isinstance(text, str) or len(text) > 400:
        return None
    tokens = _tokens(text)
    joined = " ".join(tokens)
    hedged = any(re.search(rf"\b{re.escape(p)}\b", joined) for p in _HEDGE_PHRASES)
    value = parse_option(text)
    if value is not None and value > 0:
        return Item9Answer(value, hedged)
    if not hedged and _is_clear_zero(tokens):
        return Item9Answer(0, False)
    if hedged or value == 0 or any(t in _ANSWER_WORDS for t in tokens):
        return Item9Answer(1, True)
    return None
