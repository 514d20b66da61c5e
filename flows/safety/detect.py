"""Pure, fast risk detection over the curated lexicons (no I/O after import)."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

from flows.safety.lexicon import Entry, Lexicon, Negation, load_builtin
from flows.safety.normalize import CLAUSE, tokenize

HUMAN_REQUEST = "human_request"
# Typo tolerance only for long words: short words have too many real-word neighbours.
_MIN_TYPO_LEN = 6
# Evidence is for a log line and a coach's screen, not a transcript.
_MAX_EVIDENCE = 80
_NOT_SPACE = re.compile(r"[^ ]")


@dataclass(frozen=True)
class RiskSignal:
    """One detection: its category, the lexicon entry, and the words that triggered it."""

    category: str
    entry: str
    negated: bool
    evidence: str = ""
    source: str = "lexicon"


@dataclass(frozen=True)
class RiskAssessment:
    """The verdict on one message; ``level`` is "risk", "concern" or "none"."""

    level: str
    signals: tuple[RiskSignal, ...]
    lexicon_version: str
    safeguarding: bool = False

    @property
    def urgent(self) -> bool:
        """True when anything other than a request for a human was detected."""
        return self.level != "none" and any(s.category != HUMAN_REQUEST for s in self.signals)

    @property
    def wants_human(self) -> bool:
        """True when the person asked for a human (risk alone does not set it)."""
        return any(s.category == HUMAN_REQUEST for s in self.signals)

    @property
    def categories(self) -> tuple[str, ...]:
        """The detected categories, sorted and unique."""
        return tuple(sorted({s.category for s in self.signals}))


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
_MINOR = tuple(lx.minor for lx in _LEXICONS if lx.minor is not None)
_LAUGHTER = frozenset().union(*(lx.laughter for lx in _LEXICONS))
# Only these are read as hyperbole beside laughter; ideation, self-harm and abuse never are
# ("i want to die lol" is still a disclosure).
_HYPERBOLE_CATEGORIES = frozenset({"hopelessness"})


def _ordered(locale: str) -> tuple[Lexicon, ...]:
    language = locale.replace("-", "_").split("_")[0].lower()
    first = _BY_LANGUAGE.get(language)
    if first is None:
        return _LEXICONS
    return (first, *(lx for lx in _LEXICONS if lx is not first))


def _mask_idioms(text: str) -> str:
    # Spaces survive the mask so token positions (and the evidence spans) stay aligned.
    for idioms in _IDIOMS:
        text = idioms.sub(lambda m: _NOT_SPACE.sub("#", m.group(0)), text)
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


@dataclass
class _Hit:
    entry: Entry
    negated: bool
    first: int
    last: int


class _Scan:
    """One message, tokenised once; collects the strongest reading of each entry."""

    def __init__(self, original: str) -> None:
        self.original = original
        tokens, self.spans = tokenize(original)
        self.text = _mask_idioms(" ".join(tokens))
        self.tokens = self.text.split(" ") if self.text else []
        self.starts: list[int] = []
        offset = 0
        for token in self.tokens:
            self.starts.append(offset)
            offset += len(token) + 1
        self.found: dict[str, _Hit] = {}
        self.runs = _single_letter_runs(self.tokens)

    def record(self, entry: Entry, first: int, last: int) -> None:
        negated = _is_negated(self.tokens, first)
        previous = self.found.get(entry.id)
        # One plain (un-negated) mention outweighs any number of negated ones.
        if previous is None or (previous.negated and not negated):
            self.found[entry.id] = _Hit(entry, negated, first, last)

    def match_entries(self, lexicon: Lexicon) -> None:
        for entry in lexicon.entries:
            for match in entry.regex.finditer(self.text):
                first = bisect_right(self.starts, match.start()) - 1
                last = bisect_right(self.starts, max(match.end() - 1, match.start())) - 1
                self.record(entry, first, last)

    def match_spaced_runs(self, lexicon: Lexicon) -> None:
        # "i w a n t t o d i e": short words lose their boundaries when every letter is spaced,
        # so runs of single letters are joined and matched with separators made optional.
        for first, last in self.runs:
            joined = "".join(self.tokens[first : last + 1])
            for entry in lexicon.entries:
                if _compact(entry).search(joined):
                    self.record(entry, first, last)

    def match_typos(self) -> None:
        for i, token in enumerate(self.tokens):
            if len(token) < _MIN_TYPO_LEN - 1 or not token.isalpha():
                continue
            for variant in _deletions(token):
                for entry in _TYPOS.get(variant, ()):
                    self.record(entry, i, i)

    def evidence(self, hit: _Hit) -> str:
        words = self.original[self.spans[hit.first][0] : self.spans[hit.last][1]]
        words = " ".join(words.split())
        return words if len(words) <= _MAX_EVIDENCE else words[: _MAX_EVIDENCE - 1] + "…"

    def laughs(self) -> bool:
        return not _LAUGHTER.isdisjoint(self.tokens)

    def is_minor(self) -> bool:
        return any(pattern.search(self.text) for pattern in _MINOR)


_MIN_RUN = 5


def _single_letter_runs(tokens: list[str]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for i, token in enumerate([*tokens, ""]):
        if len(token) == 1 and token.isalpha():
            start = i if start is None else start
            continue
        if start is not None and i - start >= _MIN_RUN:
            runs.append((start, i - 1))
        start = None
    return runs


@cache
def _compact(entry: Entry) -> re.Pattern[str]:
    # Same phrases with every separator optional and no word boundaries (only used on the
    # joined-up letters of a spaced-out run, which has no spaces left).
    pattern = entry.regex.pattern.replace("[ |]{1,3}", "[ |]{0,3}")
    pattern = pattern.replace("(?<![a-z0-9])", "").replace("(?![a-z0-9])", "")
    return re.compile(pattern)


def _keep(hits: list[_Hit]) -> list[_Hit]:
    # Context entries ("tonight") count only beside a plain (un-negated) risk-level signal
    # they qualify: "tonight" next to "said goodbye to everyone" (unclear) is not a plan.
    present = {
        h.entry.category
        for h in hits
        if not h.negated and not h.entry.needs and h.entry.level == "risk"
    }
    return [h for h in hits if not h.entry.needs or h.entry.needs & present]


def _level(hits: list[_Hit]) -> str:
    if not hits:
        return "none"
    for hit in hits:
        if hit.entry.level == "risk" and not hit.negated and hit.entry.category != HUMAN_REQUEST:
            return "risk"
    return "concern"


def assess(text: str, locale: str = "en") -> RiskAssessment:
    """Check one inbound message against every language's lexicon.

    ``locale`` only orders the signals (its own language first); all lexicons are always used
    because people switch languages mid-message. Levels: "risk" for an un-negated risk entry;
    "concern" for passive ideation, hopelessness, negated mentions, eating-disorder signs,
    unclear phrases and requests for a human; "none" otherwise. A request for a human alone is
    "concern" so nothing is silently dropped, but ``urgent`` stays False and ``wants_human`` is
    True. Abuse disclosed by someone who shows signs of being a child is reported as
    ``abuse_child`` and marks ``safeguarding``.
    """
    lexicons = _ordered(locale)
    scan = _Scan(text)
    if scan.tokens:
        for lexicon in lexicons:
            scan.match_entries(lexicon)
            scan.match_spaced_runs(lexicon)
        scan.match_typos()
    rank = {lx.language: i for i, lx in enumerate(lexicons)}
    found = list(scan.found.values())
    if found and scan.laughs():
        found = [h for h in found if h.entry.category not in _HYPERBOLE_CATEGORIES]
    hits = sorted(
        _keep(found),
        key=lambda h: (rank.get(h.entry.id.split(".")[0], len(rank)), h.entry.id),
    )
    minor = bool(hits) and scan.is_minor()
    signals = tuple(
        RiskSignal(
            "abuse_child" if minor and h.entry.category == "abuse_adult" else h.entry.category,
            h.entry.id,
            h.negated,
            scan.evidence(h),
        )
        for h in hits
    )
    categories = {s.category for s in signals if not s.negated}
    return RiskAssessment(
        level=_level(hits),
        signals=signals,
        lexicon_version="+".join(f"{lx.language}:{lx.version}" for lx in lexicons),
        safeguarding="abuse_child" in categories or (minor and "sexual_abuse" in categories),
    )
