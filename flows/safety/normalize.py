"""Text normalisation shared by the lexicon compiler and the detector.

Both the message and every lexicon phrase go through the same pipeline, so spelling tricks that
the pipeline removes (accents, case, elongation, leetspeak) cannot make a phrase and a message
disagree. The detector also needs to point back at the words as the person wrote them, so
:func:`tokenize` keeps, for every normalised token, the span of the original text it came from.
"""

from __future__ import annotations

import re
import unicodedata

# Marks a clause boundary in normalised text; negation never reaches across one.
CLAUSE = "|"

# Apostrophes are deleted (not turned into spaces) so "don't" and "dont" normalise alike.
_APOSTROPHES = re.compile(r"['’‘`´ʼʹ]")
# Punctuation at the end of a chunk ends a clause; inside a word ("k.i.l.l") it is only spacing.
_CLAUSE_PUNCT = re.compile(r"[.!?;,:]+$")
# "!" or "|" wedged between letters is a stand-in for "i" ("k!ll", "k|ll").
_BANG_I = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
# Censoring stars inside a word ("sh*t") are dropped so the word is not split in two.
_STARS = re.compile(r"(?<=[a-z])\*+(?=[a-z])")
_TOKEN = re.compile(r"[a-z0-9@$]+")
_LEADING_NUMBER = re.compile(r"^(\d+)(?=[a-z@$])")
_HAS_LETTER = re.compile(r"[a-z]")
# Every run of a repeated letter becomes one letter. Phrases are squeezed the same way, so
# "kill" and "kiiilll" both become "kil" and legitimate double letters still match.
REPEAT = re.compile(r"([a-z])\1+")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_CHUNK = re.compile(r"\S+")
# Emoji people use for means or death become words of their own ("emojipills"), never the
# plain word, so "cut the cake 🔪" cannot read as a knife in a sentence about oneself. The
# skull is left out on purpose: "💀" means "I'm laughing" far more often than anything else.
EMOJI_WORDS = {
    "🔪": "emojiknife",
    "🗡": "emojiknife",
    "💊": "emojipills",
    "🪢": "emojirope",
    "⚰": "emojicoffin",
    "🪦": "emojigrave",
    "🔫": "emojigun",
    "🩸": "emojiblood",
    "🩹": "emojibandage",
    "😂": "emojilaugh",
    "🤣": "emojilaugh",
    "😹": "emojilaugh",
}
_EMOJI = re.compile("|".join(map(re.escape, EMOJI_WORDS)))


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    # Drop combining marks (accents) and format characters (zero-width joiners used to dodge
    # filters), keep everything else.
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Cf"))
    return kept.casefold()


def _clean_token(token: str) -> list[str]:
    parts: list[str] = []
    lead = _LEADING_NUMBER.match(token)
    if lead:
        # "20pills" is a count and a word, not leetspeak.
        parts.append(lead.group(1))
        token = token[lead.end() :]
    if _HAS_LETTER.search(token):
        token = REPEAT.sub(r"\1", token.translate(_LEET))
    else:
        token = token.replace("@", "").replace("$", "")
    if token:
        parts.append(token)
    return parts


def _chunk_tokens(chunk: str) -> list[str]:
    chunk = _EMOJI.sub(lambda m: f" {EMOJI_WORDS[m.group(0)]} ", chunk)
    folded = _APOSTROPHES.sub("", _fold(chunk))
    folded = _STARS.sub("", _BANG_I.sub("i", folded))
    out: list[str] = []
    for piece in folded.split():
        ends_clause = bool(_CLAUSE_PUNCT.search(piece))
        for raw in _TOKEN.findall(piece):
            out.extend(_clean_token(raw))
        if ends_clause:
            out.append(CLAUSE)
    return out


def tokenize(text: str, limit: int | None = None) -> tuple[list[str], list[tuple[int, int]]]:
    """Normalised tokens of ``text`` and, for each, the (start, end) of its original chunk.

    Clause boundaries appear as the token ``|``; tokens hold only ``[a-z0-9]``. With
    ``limit``, stops once that many tokens are found (a trailing clause mark may remain).
    """
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _CHUNK.finditer(text):
        if limit is not None and len(tokens) >= limit:
            return tokens, spans
        for tok in _chunk_tokens(match.group(0)):
            if tok == CLAUSE and (not tokens or tokens[-1] == CLAUSE):
                continue
            tokens.append(tok)
            spans.append(match.span())
    while tokens and tokens[-1] == CLAUSE:
        tokens.pop()
        spans.pop()
    return tokens, spans


_CLAUSE_PUNCT_WHOLE = re.compile(r"[.!?;,:]+(?=\s|$)")
_TOKEN_WHOLE = re.compile(r"\||[a-z0-9@$]+")


def normalize(text: str) -> str:
    """Return ``text`` lower-cased, accent-free, de-elongated, as space-separated tokens.

    Clause boundaries appear as the token ``|``. Only ``[a-z0-9| ]`` remain. This is the fast
    whole-text path; :func:`tokenize` gives the same tokens with their original spans.
    """
    folded = _EMOJI.sub(lambda m: f" {EMOJI_WORDS[m.group(0)]} ", text)
    folded = _APOSTROPHES.sub("", _fold(folded))
    folded = _STARS.sub("", _BANG_I.sub("i", folded))
    folded = _CLAUSE_PUNCT_WHOLE.sub(f" {CLAUSE} ", folded)
    tokens: list[str] = []
    for raw in _TOKEN_WHOLE.findall(folded):
        if raw == CLAUSE:
            if tokens and tokens[-1] != CLAUSE:
                tokens.append(raw)
            continue
        tokens.extend(_clean_token(raw))
    while tokens and tokens[-1] == CLAUSE:
        tokens.pop()
    return " ".join(tokens)
