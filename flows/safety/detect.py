"""Pure, fast risk detection over the curated lexicons (no I/O after import)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from flows.safety.lexicon import Entry, Lexicon, Negation, load_builtin
from flows.safety.normalize import CLAUSE, normalize

HUMAN_REQUEST = "human_request"
# Typo tolerance only for long words: short words have too many real-word neighbours.
_MIN_TYPO_LEN = 6


@dataclass(frozen=True)
class RiskSignal:
    category: str
    entry: str
    negated: bool


@dataclass(frozen=True)
class RiskAssessment:
    level: str
    signals: tuple[RiskSignal, ...]
    lexicon_version: str

    @property
    def urgent(self) -> bool:
        """True when anything other than a request for a human was detected."""
        return self.level != "none" and any(s.category != HUMAN_REQUEST for s in self.signals)

    @property
    def wants_human(self) -> bool:
        """True when the person asked for a human (risk alone does not set it)."""
        return any(s.category == HUMAN_REQUEST for s in self.signals)


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _typo_index(lexicons: tuple[Lexicon, ...]) -> dict[str, tuple[Entry, ...]]:
    # Symmetric-delete index: a token and a word one edit apart share a one-deletion variant.
    index: dict[str, list[Entry]] = {}
    for lexicon in lexicons:
        for entry in lexicon.entries:
            for word in entry.typos:
                if len(word) >= _MIN_TYPO_LEN:
                    for variant in _deletions(word):
                        bucket = index.setdefault(variant, [])
                        if entry not in bucket:
                            bucket.append(entry)
    return {k: tuple(v) for k, v in index.items()}


def _merge_negation(lexicons: tuple[Lexicon, ...]) -> Negation:
    # People code-switch, so negation words of every language apply to every match.
    return Negation(
        cues=frozenset().union(*(lx.negation.cues for lx in lexicons)),
        ignore_after=frozenset().union(*(lx.negation.ignore_after for lx in lexicons)),
        breaks=frozenset().union(*(lx.negation.breaks for lx in lexicons)),
        window=max((lx.negation.window for lx in lexicons), default=4),
    )


_LEXICONS = load_builtin()
_BY_LANGUAGE = {lx.language: lx for lx in _LEXICONS}
_TYPOS = _typo_index(_LEXICONS)
_NEGATION = _merge_negation(_LEXICONS)
_IDIOMS = tuple(lx.idioms for lx in _LEXICONS if lx.idioms is not None)


def _ordered(locale: str) -> tuple[Lexicon, ...]:
    language = locale.replace("-", "_").split("_")[0].lower()
    first = _BY_LANGUAGE.get(language)
    if first is None:
        return _LEXICONS
    return (first, *(lx for lx in _LEXICONS if lx is not first))


def _mask_idioms(text: str) -> str:
    for idioms in _IDIOMS:
        text = idioms.sub(lambda m: "#" * len(m.group(0)), text)
    return text


def _is_negated(tokens: list[str], index: int) -> bool:
    """Whether a negation cue shortly precedes the token at ``index`` in the same clause."""
    neg = _NEGATION
    if tokens[index] in neg.breaks:
        # The match itself opens a new clause ("not okay, I want to die").
        return False
    for back in range(1, neg.window + 1):
        pos = index - back
        if pos < 0:
            return False
        token = tokens[pos]
        if token == CLAUSE or token in neg.breaks:
            return False
        if token in neg.cues:
            following = tokens[pos + 1] if pos + 1 < len(tokens) else ""
            if following not in neg.ignore_after:
                return True
    return False


class _Scan:
    """One message, tokenised once; collects the strongest reading of each entry."""

    def __init__(self, masked: str) -> None:
        self.text = masked
        self.tokens = masked.split(" ") if masked else []
        self.starts: list[int] = []
        offset = 0
        for token in self.tokens:
            self.starts.append(offset)
            offset += len(token) + 1
        self.found: dict[str, tuple[Entry, bool]] = {}

    def record(self, entry: Entry, token_index: int) -> None:
        negated = _is_negated(self.tokens, token_index)
        previous = self.found.get(entry.id)
        # One plain (un-negated) mention outweighs any number of negated ones.
        if previous is None or (previous[1] and not negated):
            self.found[entry.id] = (entry, negated)

    def match_entries(self, lexicon: Lexicon) -> None:
        for entry in lexicon.entries:
            for match in entry.regex.finditer(self.text):
                self.record(entry, bisect_right(self.starts, match.start()) - 1)

    def match_typos(self) -> None:
        for i, token in enumerate(self.tokens):
            if len(token) < _MIN_TYPO_LEN - 1 or not token.isalpha():
                continue
            for variant in _deletions(token):
                for entry in _TYPOS.get(variant, ()):
                    self.record(entry, i)


def _level(found: list[tuple[Entry, bool]]) -> str:
    if not found:
        return "none"
    for entry, negated in found:
        if entry.level == "risk" and not negated and entry.category != HUMAN_REQUEST:
            return "risk"
    return "possible"


def assess(text: str, locale: str = "en") -> RiskAssessment:
    """Check one inbound message against every language's lexicon.

    ``locale`` only orders the signals (its own language first); all lexicons are always used
    because people switch languages mid-message. Levels: "risk" for an un-negated risk entry;
    "possible" for negated mentions, unclear phrases and requests for a human; "none" otherwise.
    A request for a human alone is "possible" so nothing is silently dropped, but ``urgent``
    stays False and ``wants_human`` is True.
    """
    lexicons = _ordered(locale)
    scan = _Scan(_mask_idioms(normalize(text)))
    if scan.tokens:
        for lexicon in lexicons:
            scan.match_entries(lexicon)
        scan.match_typos()
    rank = {lx.language: i for i, lx in enumerate(lexicons)}
    found = sorted(
        scan.found.values(),
        key=lambda item: (rank.get(item[0].id.split(".")[0], len(rank)), item[0].id),
    )
    return RiskAssessment(
        level=_level(found),
        signals=tuple(RiskSignal(e.category, e.id, negated) for e, negated in found),
        lexicon_version="+".join(f"{lx.language}:{lx.version}" for lx in lexicons),
    )
