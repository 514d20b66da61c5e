"""Pure, fast risk detection over the curated lexicons (no I/O after import)."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

from flows.safety.frames import quieted
from flows.safety.lexicon import Entry, Lexicon, Negation, load_builtin
from flows.safety.model import HUMAN_THRESHOLD, URGENT_THRESHOLD, features
from flows.safety.model import load as load_model
from flows.safety.normalize import CLAUSE, REPEAT, normalize, tokenize

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
    # Which layer spoke: "lexicon", or "model" (the statistical second opinion, model.py).
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


def _start_index(
    lexicons: tuple[Lexicon, ...],
) -> tuple[dict[str, tuple[Entry, ...]], tuple[Entry, ...]]:
    # Trying each entry only where one of its first words stands keeps a scan to a few
    # regex attempts per message instead of every phrase at every word.
    index: dict[str, list[Entry]] = {}
    anywhere: list[Entry] = []
    for lexicon in lexicons:
        for entry in lexicon.entries:
            if entry.starts is None:
                anywhere.append(entry)
                continue
            for word in entry.starts:
                index.setdefault(word, []).append(entry)
    return {k: tuple(v) for k, v in index.items()}, tuple(anywhere)


@dataclass(frozen=True)
class _Tables:
    """The built-in lexicons and the indexes built from them."""

    lexicons: tuple[Lexicon, ...]
    by_language: dict[str, Lexicon]
    typos: dict[str, tuple[Entry, ...]]
    starts: dict[str, tuple[Entry, ...]]
    anywhere: tuple[Entry, ...]
    negation: Negation
    idioms: tuple[re.Pattern[str], ...]
    minor: tuple[re.Pattern[str], ...]
    laughter: frozenset[str]


@cache
def _tables() -> _Tables:
    """Read on first use, not at import: importing the engine reads no files."""
    lexicons = load_builtin()
    starts, anywhere = _start_index(lexicons)
    return _Tables(
        lexicons=lexicons,
        by_language={lx.language: lx for lx in lexicons},
        typos=_typo_index(lexicons),
        starts=starts,
        anywhere=anywhere,
        negation=_merge_negation(lexicons),
        idioms=tuple(lx.idioms for lx in lexicons if lx.idioms is not None),
        minor=tuple(lx.minor for lx in lexicons if lx.minor is not None),
        laughter=frozenset().union(*(lx.laughter for lx in lexicons)),
    )


# Run-together words ("killmyself") begin with a long first word; short ones never join.
_MIN_PREFIX = 3
# Only these are read as hyperbole beside laughter; ideation, self-harm and abuse never are
# ("i want to die lol" is still a disclosure).
_HYPERBOLE_CATEGORIES = frozenset({"hopelessness"})


def _ordered(locale: str) -> tuple[Lexicon, ...]:
    language = locale.replace("-", "_").split("_")[0].lower()
    first = _tables().by_language.get(language)
    if first is None:
        return _tables().lexicons
    return (first, *(lx for lx in _tables().lexicons if lx is not first))


def _mask_idioms(text: str) -> str:
    # Spaces survive the mask so token positions (and the evidence spans) stay aligned.
    for idioms in _tables().idioms:
        text = idioms.sub(lambda m: _NOT_SPACE.sub("#", m.group(0)), text)
    return text


def _is_negated(tokens: list[str], index: int) -> bool:
    """Whether a negation cue shortly precedes the token at ``index`` in the same clause."""
    neg = _tables().negation
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


def _starts(tokens: list[str]) -> list[int]:
    starts: list[int] = []
    offset = 0
    for token in tokens:
        starts.append(offset)
        offset += len(token) + 1
    return starts


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
        normalized = normalize(original)
        self.unmasked = normalized.split(" ") if normalized else []
        self.text = _mask_idioms(normalized)
        self.tokens = self.text.split(" ") if self.text else []
        self.starts = _starts(self.tokens)
        self.found: dict[str, _Hit] = {}
        self.runs = _single_letter_runs(self.tokens)
        self._spans: tuple[list[str], list[tuple[int, int]]] | None = None
        self._span_hint = 0

    def record(self, entry: Entry, first: int, last: int) -> None:
        negated = _is_negated(self.tokens, first)
        previous = self.found.get(entry.id)
        # One plain (un-negated) mention outweighs any number of negated ones.
        if previous is None or (previous.negated and not negated):
            self.found[entry.id] = _Hit(entry, negated, first, last)

    def _record_match(self, entry: Entry, start: int, end: int) -> None:
        first = bisect_right(self.starts, start) - 1
        last = bisect_right(self.starts, max(end - 1, start)) - 1
        self.record(entry, first, last)

    def match_entries(self) -> None:
        for i, token in enumerate(self.tokens):
            candidates: dict[str, Entry] = {e.id: e for e in _tables().starts.get(token, ())}
            for k in range(_MIN_PREFIX, len(token)):
                for entry in _tables().starts.get(token[:k], ()):
                    candidates.setdefault(entry.id, entry)
            for entry in candidates.values():
                hit = self.found.get(entry.id)
                if hit is not None and not hit.negated:
                    continue  # nothing can outrank a plain hit; long repetitive texts stay fast
                match = entry.regex.match(self.text, self.starts[i])
                if match:
                    self._record_match(entry, match.start(), match.end())
        for entry in _tables().anywhere:
            for match in entry.regex.finditer(self.text):
                self._record_match(entry, match.start(), match.end())

    def match_collapsed_runs(self) -> None:
        # "i want to k i l l myself": each run of single letters becomes one word, and the
        # rewritten message is scanned again; hits map back to the original token positions.
        if not self.runs:
            return
        tokens: list[str] = []
        origin: list[int] = []
        run_at = {first: last for first, last in self.runs}
        i = 0
        while i < len(self.tokens):
            last = run_at.get(i, i)
            tokens.append(REPEAT.sub(r"\1", "".join(self.tokens[i : last + 1])))
            origin.append(i)
            i = last + 1
        origin.append(len(self.tokens))
        other = _Scan.__new__(_Scan)
        other.original, other.text, other.tokens = self.original, " ".join(tokens), tokens
        other.starts = _starts(tokens)
        other.found, other.runs = {}, []
        other.match_entries()
        for hit in other.found.values():
            first, last = origin[hit.first], origin[hit.last + 1] - 1
            self.record(hit.entry, first, last)

    def match_spaced_runs(self) -> None:
        # "i w a n t t o d i e": short words lose their boundaries when every letter is spaced,
        # so runs of single letters are joined and matched with separators made optional.
        for first, last in self.runs:
            joined = REPEAT.sub(r"\1", "".join(self.tokens[first : last + 1]))
            for entry in (e for lx in _tables().lexicons for e in lx.entries):
                if _compact(entry).search(joined):
                    self.record(entry, first, last)

    def match_typos(self) -> None:
        for i, token in enumerate(self.tokens):
            if len(token) < _MIN_TYPO_LEN - 1 or not token.isalpha():
                continue
            for variant in _deletions(token):
                for entry in _tables().typos.get(variant, ()):
                    self.record(entry, i, i)

    def spans(self, last: int) -> list[tuple[int, int]] | None:
        """Original spans of tokens 0..last (None if the two tokenisations disagree)."""
        # Only messages with a hit need the slower, span-keeping tokenisation, and only as far
        # as the last word quoted; a longer request recomputes.
        limit = last + 1
        if self._spans is None or len(self._spans[1]) < limit:
            self._spans = tokenize(self.original, max(limit, self._span_hint))
        tokens, spans = self._spans
        if len(spans) < limit or tokens[:limit] != self.unmasked[:limit]:
            return None
        return spans

    def evidence(self, hit: _Hit) -> str:
        spans = self.spans(hit.last)
        if spans is None:
            # Unicode compatibility forms made the two tokenisations differ: fall back to
            # the normalised words rather than point at the wrong ones.
            return " ".join(self.tokens[hit.first : hit.last + 1])[:_MAX_EVIDENCE]
        words = self.original[spans[hit.first][0] : spans[hit.last][1]]
        words = " ".join(words.split())
        return words if len(words) <= _MAX_EVIDENCE else words[: _MAX_EVIDENCE - 1] + "…"

    def laughs(self) -> bool:
        return not _tables().laughter.isdisjoint(self.tokens)

    def is_minor(self) -> bool:
        return any(pattern.search(self.text) for pattern in _tables().minor)


_MIN_RUN = 3


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


# What the second opinion calls what it found: it has no lexicon category to name.
MODEL_CATEGORY = "possible_risk"
MODEL_MIN_WORDS = 3
_SELF_FRAMED = frozenset(
    {"active_ideation", "passive_ideation", "self_harm", "preparatory", "plan", "method", "attempt"}
)


def _second_opinion(
    scan: _Scan, signals: tuple[RiskSignal, ...], level: str
) -> tuple[tuple[RiskSignal, ...], str]:
    """Let the model raise a concern (or a request for a person) the lexicon did not see; it
    never lowers what the lexicon found."""
    model = load_model()
    if model is None or not scan.tokens:
        return signals, level
    found = features(scan.text)
    urgent = any(s.category != HUMAN_REQUEST for s in signals)
    # Short replies ("no", "7", a masked idiom) carry too little for reading risk into them
    # ("agent" or "humano" alone still reads as asking for a person).
    count = sum(1 for t in scan.tokens if t.isalpha())
    if count < len(scan.unmasked) / 2:
        return signals, level  # mostly an idiom the lexicon knows ("me muero de la vergüenza")
    if (
        not urgent
        and count >= MODEL_MIN_WORDS
        and model.urgent.probability(found) >= URGENT_THRESHOLD
    ):
        words = " ".join(model.evidence(scan.text))
        signal = RiskSignal(MODEL_CATEGORY, "model.urgent", False, words, "model")
        return (*signals, signal), "concern" if level == "none" else level
    human = any(s.category == HUMAN_REQUEST for s in signals)
    if not urgent and not human and model.human.probability(found) >= HUMAN_THRESHOLD:
        signal = RiskSignal(HUMAN_REQUEST, "model.human", False, "", "model")
        return (*signals, signal), "concern" if level == "none" else level
    return signals, level


def model_text(text: str) -> str:
    """A message as the second opinion reads it: normalised, idioms masked."""
    return _mask_idioms(normalize(text))


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
        scan.match_entries()
        scan.match_spaced_runs()
        scan.match_collapsed_runs()
        scan.match_typos()
    rank = {lx.language: i for i, lx in enumerate(lexicons)}
    found = list(scan.found.values())
    if found and scan.laughs():
        found = [h for h in found if h.entry.category not in _HYPERBOLE_CATEGORIES]
    framed = quieted(scan.text) if scan.tokens else frozenset()
    if found and framed:
        found = [h for h in found if h.entry.category not in framed]
    hits = sorted(
        _keep(found),
        key=lambda h: (rank.get(h.entry.id.split(".")[0], len(rank)), h.entry.id),
    )
    minor = bool(hits) and scan.is_minor()
    # Tokenise for evidence once, as far as the last quoted word.
    scan._span_hint = max((h.last + 1 for h in hits), default=0)
    signals = tuple(
        RiskSignal(
            "abuse_child" if minor and h.entry.category == "abuse_adult" else h.entry.category,
            h.entry.id,
            h.negated,
            scan.evidence(h),
        )
        for h in hits
    )
    level = _level(hits)
    if not framed & _SELF_FRAMED:  # a recovery story, a novel, a haircut: not read by the model
        signals, level = _second_opinion(scan, signals, level)
    categories = {s.category for s in signals if not s.negated}
    if minor and categories & {"abuse_child", "sexual_abuse"}:
        level = "risk"  # a child disclosing abuse or grooming is always urgent
    return RiskAssessment(
        level=level,
        signals=signals,
        lexicon_version="+".join(f"{lx.language}:{lx.version}" for lx in lexicons),
        safeguarding="abuse_child" in categories or (minor and "sexual_abuse" in categories),
    )
