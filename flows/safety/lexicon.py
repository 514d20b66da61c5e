"""Loads the clinician-edited YAML lexicons and compiles them into regexes once.

Phrase syntax (see the header of ``lexicon/en.yaml``): plain words, ``{group}`` for a named
list of alternatives, ``word?`` / ``{group}?`` for an optional part, ``*`` for any one word,
``...`` for up to three words, ``#`` for a number, ``##`` for a number of two or more
digits and a final ``$`` for the end of a clause. Phrases are normalised exactly like messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flows.safety.normalize import normalize

# After the C-SSRS screener (Posner et al. 2011) plus the wider risks CLINICAL.md lists.
CATEGORIES = frozenset(
    {
        "passive_ideation",
        "active_ideation",
        "method",
        "intent",
        "plan",
        "preparatory",
        "attempt",
        "self_harm",
        "abuse_adult",
        "abuse_child",
        "sexual_abuse",
        "violence",
        "eating_disorder",
        "hopelessness",
        "human_request",
    }
)
LEVELS = frozenset({"risk", "concern"})
LEXICON_DIR = Path(__file__).parent / "lexicon"

# Words this short are never joined to a neighbour or spread out ("i sh" must not match "ish").
_MIN_JOIN = 3
_ANY_WORD = "[a-z0-9]+"
_SEP_REQUIRED = r"[ |]{1,3}"
_SEP_OPTIONAL = r"[ |]{0,3}"
_GAP = r"(?:[a-z0-9#]+[ |]{1,3}){0,3}"
_GROUP_REF = re.compile(r"^\{([a-z_]+)\}(\??)$")
_MAX_GROUP_DEPTH = 4


@dataclass(frozen=True)
class Entry:
    id: str
    category: str
    level: str
    regex: re.Pattern[str]
    typos: tuple[str, ...]
    # Context entries ("tonight", a pill emoji) count only next to a signal of these categories.
    needs: frozenset[str] = frozenset()
    # Words a match can begin with (None: any word); the detector only tries the entry there.
    starts: frozenset[str] | None = None


@dataclass(frozen=True)
class Negation:
    cues: frozenset[str]
    ignore_after: frozenset[str]
    breaks: frozenset[str]
    window: int


@dataclass(frozen=True)
class Lexicon:
    language: str
    version: str
    entries: tuple[Entry, ...]
    idioms: re.Pattern[str] | None
    negation: Negation
    # Laughter ("lol", "jaja", 😂): hopelessness phrases beside it are hyperbole.
    laughter: frozenset[str] = frozenset()
    # Signs the writer is a child ("I'm 13", "8th grade"): abuse then becomes a safeguarding case.
    minor: re.Pattern[str] | None = None


@dataclass(frozen=True)
class _Unit:
    regex: str
    long_left: bool
    long_right: bool
    optional: bool = False
    gap: bool = False


def _word_unit(word: str) -> _Unit:
    tokens = normalize(word).replace("|", " ").split()
    if not tokens:
        raise ValueError(f"phrase word {word!r} is empty after normalisation")
    # Letters spaced out ("k i l l") are joined up by the detector before a second pass, so
    # words compile to plain literals here: that keeps every message scan fast.
    parts = [re.escape(tok) for tok in tokens]
    regex = _SEP_REQUIRED.join(parts)
    return _Unit(regex, len(tokens[0]) >= _MIN_JOIN, len(tokens[-1]) >= _MIN_JOIN)


def _sep(left: _Unit, right: _Unit) -> str:
    if left.gap or right.gap:
        return ""
    return _SEP_OPTIONAL if left.long_right and right.long_left else _SEP_REQUIRED


class _Compiler:
    def __init__(self, groups: dict[str, list[str]], source: str) -> None:
        self._groups = groups
        self._source = source
        self._cache: dict[str, _Unit] = {}

    def phrase(self, phrase: str, depth: int = 0) -> _Unit:
        if not isinstance(phrase, str) or not phrase.strip():
            raise ValueError(f"{self._source}: empty or non-text phrase {phrase!r}")
        words = phrase.split()
        # A trailing "$" means the phrase must end its clause ("want to cut $" but not
        # "want to cut my nails").
        end = len(words) > 1 and words[-1] == "$"
        units = [self._unit(w, depth) for w in (words[:-1] if end else words)]
        if all(u.optional or u.gap for u in units) or units[0].gap or units[-1].gap:
            raise ValueError(f"{self._source}: phrase {phrase!r} needs required words at both ends")
        out = ""
        prev: _Unit | None = None
        started = False  # whether a required word has been emitted yet
        for i, unit in enumerate(units):
            if unit.gap:
                out += _SEP_REQUIRED + _GAP
                prev = None
                continue
            if not started and unit.optional:
                # A leading optional word carries the separator to what follows it.
                out += f"(?:{unit.regex}{_sep(unit, units[i + 1])})?"
                continue
            sep = "" if prev is None or not started else _sep(prev, unit)
            out += f"(?:{sep}{unit.regex})?" if unit.optional else f"{sep}{unit.regex}"
            started = started or not unit.optional
            prev = unit
        if end:
            return _Unit(f"(?:{out}(?=[ ]?[|]|$))", units[0].long_left, False)
        return _Unit(f"(?:{out})", units[0].long_left, units[-1].long_right)

    def first_words(self, phrase: str, depth: int = 0) -> frozenset[str] | None:
        """The normalised words a match of ``phrase`` can begin with (None: any word)."""
        found: set[str] = set()
        for word in phrase.split():
            if word in ("*", "#", "##", "...", "$"):
                return None
            ref = _GROUP_REF.match(word)
            optional = word.endswith("?")
            if ref:
                if depth > _MAX_GROUP_DEPTH or ref.group(1) not in self._groups:
                    return None
                for alt in self._groups[ref.group(1)]:
                    sub = self.first_words(alt, depth + 1)
                    if sub is None:
                        return None
                    found |= sub
            else:
                found.add(normalize(word[:-1] if optional else word).replace("|", " ").split()[0])
            if not optional:
                break
        return frozenset(found)

    def starts(self, phrases: list[str]) -> frozenset[str] | None:
        found: set[str] = set()
        for phrase in phrases:
            sub = self.first_words(phrase)
            if sub is None:
                return None
            found |= sub
        return frozenset(found)

    def _unit(self, word: str, depth: int) -> _Unit:
        if word == "*":
            return _Unit(_ANY_WORD, False, False)
        if word in ("#", "##"):
            return _Unit("[0-9]+" if word == "#" else "[0-9]{2,}", False, False)
        if word == "...":
            return _Unit("", False, False, gap=True)
        ref = _GROUP_REF.match(word)
        optional = word.endswith("?")
        if ref:
            unit = self._group(ref.group(1), depth)
            optional = bool(ref.group(2))
        else:
            unit = _word_unit(word[:-1] if optional else word)
        return _Unit(unit.regex, unit.long_left, unit.long_right, optional=optional)

    def _group(self, name: str, depth: int) -> _Unit:
        if name in self._cache:
            return self._cache[name]
        if name not in self._groups:
            raise ValueError(f"{self._source}: unknown group {{{name}}}")
        if depth > _MAX_GROUP_DEPTH:
            raise ValueError(f"{self._source}: groups nested too deeply at {{{name}}}")
        alts = [self.phrase(p, depth + 1) for p in self._groups[name]]
        unit = _Unit(
            "(?:" + "|".join(a.regex for a in alts) + ")",
            all(a.long_left for a in alts),
            all(a.long_right for a in alts),
        )
        self._cache[name] = unit
        return unit

    def pattern(self, phrases: list[str]) -> re.Pattern[str]:
        body = "|".join(self.phrase(p).regex for p in phrases)
        return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


def _require(data: dict[str, Any], key: str, kind: type, source: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise ValueError(f"{source}: field {key!r} must be a {kind.__name__}")
    return value


def _texts(values: Any, where: str) -> list[str]:
    # YAML reads a bare no/yes/on/off as a boolean; insist on text so "no" is not lost.
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f'{where}: expected a list of text (quote words like "no")')
    return values


def _words(values: Any, where: str) -> frozenset[str]:
    words = frozenset(normalize(v) for v in _texts(values, where))
    if any(not w or " " in w for w in words):
        raise ValueError(f"{where}: expected single words")
    return words


def _entry(raw: Any, compiler: _Compiler, seen: set[str], source: str) -> Entry:
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: every entry must be a mapping")
    entry_id = _require(raw, "id", str, source)
    where = f"{source} entry {entry_id}"
    if entry_id in seen:
        raise ValueError(f"{where}: duplicate id")
    seen.add(entry_id)
    category = _require(raw, "category", str, where)
    if category not in CATEGORIES:
        raise ValueError(f"{where}: unknown category {category!r}")
    level = raw.get("level", "risk")
    if level not in LEVELS:
        raise ValueError(f"{where}: level must be one of {sorted(LEVELS)}")
    needs = frozenset(_texts(raw.get("needs", []), f"{where} needs"))
    if needs - CATEGORIES:
        raise ValueError(f"{where}: needs unknown categories {sorted(needs - CATEGORIES)}")
    phrases = _texts(raw.get("phrases", []), where)
    typo_words = tuple(sorted(_words(raw.get("typos", []), where)))
    if not (phrases or typo_words):
        raise ValueError(f"{where}: needs phrases and/or typos")
    regex = compiler.pattern(phrases + list(typo_words))
    starts = compiler.starts(phrases + list(typo_words))
    return Entry(entry_id, category, level, regex, typo_words, needs, starts)


def load_lexicon(path: Path) -> Lexicon:
    """Parse and compile one lexicon file; raise ValueError on any mistake in it."""
    source = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read lexicon {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{source}: top level must be a mapping")
    version = data.get("version")
    if not isinstance(version, str | int | float) or not str(version).strip():
        raise ValueError(f"{source}: a version field is required")
    language = _require(data, "language", str, source)
    groups = data.get("groups") or {}
    if not isinstance(groups, dict):
        raise ValueError(f"{source}: groups must map names to lists")
    compiler = _Compiler(
        {str(k): _texts(v, f"{source} group {k}") for k, v in groups.items()}, source
    )
    neg = data.get("negation") or {}
    negation = Negation(
        cues=_words(neg.get("cues", []), f"{source} negation.cues"),
        ignore_after=_words(neg.get("ignore_after", []), f"{source} negation.ignore_after"),
        breaks=_words(neg.get("breaks", []), f"{source} negation.breaks"),
        window=int(neg.get("window", 4)),
    )
    idiom_phrases: list[str] = []
    for idiom in data.get("idioms") or []:
        if not isinstance(idiom, dict):
            raise ValueError(f"{source}: every idiom must be a mapping with phrases")
        idiom_phrases.extend(_texts(idiom.get("phrases"), f"{source} idiom {idiom.get('id')}"))
    minor = _texts(data.get("minor") or [], f"{source} minor")
    seen: set[str] = set()
    entries = tuple(
        _entry(e, compiler, seen, source) for e in _require(data, "entries", list, source)
    )
    return Lexicon(
        language=language,
        version=str(version),
        entries=entries,
        idioms=compiler.pattern(idiom_phrases) if idiom_phrases else None,
        negation=negation,
        minor=compiler.pattern(minor) if minor else None,
        laughter=_words(data.get("laughter") or [], f"{source} laughter"),
    )


def load_builtin() -> tuple[Lexicon, ...]:
    """All lexicons shipped in the package, sorted by language."""
    return tuple(load_lexicon(p) for p in sorted(LEXICON_DIR.glob("*.yaml")))
