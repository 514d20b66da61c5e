"""Scores the detector on a labelled phrase list (`tandem safety eval FILE.tsv`).

A file holds one message per line: ``label<TAB>text``, optionally ``<TAB>category`` (the
category the writer expects, used only for the per-category figures). Labels are ``risk``,
``concern``, ``human`` and ``safe``; blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.safety.detect import RiskAssessment, assess
from flows.safety.lexicon import CATEGORIES

LABELS = ("risk", "concern", "human", "safe")
# Labels whose messages must raise something; "safe" ones must raise nothing.
POSITIVE = ("risk", "concern", "human")


class CorpusError(ValueError):
    """A phrase file that cannot be read or has a malformed line (message names file:line)."""


@dataclass(frozen=True)
class Case:
    line: int
    label: str
    text: str
    category: str | None = None


@dataclass(frozen=True)
class Outcome:
    case: Case
    result: RiskAssessment

    @property
    def detected(self) -> bool:
        """Whether the message raised what its label calls for (for "safe": anything at all)."""
        if self.case.label == "human":
            return self.result.wants_human or self.result.urgent
        return self.result.level != "none"

    @property
    def exact(self) -> bool:
        label, result = self.case.label, self.result
        if label == "human":
            return result.wants_human
        if label == "safe":
            return result.level == "none"
        return result.level == label


def parse_corpus(content: str, source: str) -> list[Case]:
    """Parse the text of a phrase file; raise CorpusError naming ``source:line`` on a mistake."""
    cases: list[Case] = []
    for number, raw in enumerate(content.splitlines(), 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        where = f"{source}:{number}"
        if len(parts) < 2 or len(parts) > 3:
            raise CorpusError(f"{where}: expected 'label<TAB>text' (optionally <TAB>category)")
        label, text = parts[0].strip().lower(), parts[1].strip()
        if label not in LABELS:
            raise CorpusError(f"{where}: unknown label {parts[0]!r} (use {', '.join(LABELS)})")
        if not text:
            raise CorpusError(f"{where}: the message text is empty")
        category = parts[2].strip() if len(parts) == 3 and parts[2].strip() else None
        if category is not None and category not in CATEGORIES:
            raise CorpusError(f"{where}: unknown category {category!r}")
        cases.append(Case(number, label, text, category))
    if not cases:
        raise CorpusError(f"{source}: no labelled messages found")
    return cases


def load_corpus(path: Path) -> list[Case]:
    """Read and parse a phrase file (UTF-8, a byte-order mark is fine)."""
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise CorpusError(f"{path}:{line}: not UTF-8 text") from exc
    return parse_corpus(content, str(path))


@dataclass
class _Tally:
    count: int = 0
    detected: int = 0
    exact: int = 0
    categories: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        rate = self.detected / self.count if self.count else 0.0
        return {
            "count": self.count,
            "detected": self.detected,
            "rate": round(rate, 4),
            "exact": self.exact,
            "exact_rate": round(self.exact / self.count if self.count else 0.0, 4),
            "detected_categories": dict(sorted(self.categories.items())),
        }


def evaluate(cases: list[Case], locale: str = "en") -> dict[str, Any]:
    """Run ``assess`` on every case and return the figures as plain data (JSON-ready)."""
    outcomes = [Outcome(c, assess(c.text, locale)) for c in cases]
    labels = {label: _Tally() for label in LABELS}
    expected: dict[str, _Tally] = {}
    for o in outcomes:
        tallies = [labels[o.case.label]]
        if o.case.category is not None and o.case.label != "safe":
            tallies.append(expected.setdefault(o.case.category, _Tally()))
        for tally in tallies:
            tally.count += 1
            tally.detected += o.detected
            tally.exact += o.exact
            tally.categories.update(o.result.categories)
    positives = [o for o in outcomes if o.case.label in POSITIVE]
    safe = [o for o in outcomes if o.case.label == "safe"]
    alarms = sum(o.detected for o in safe)
    return {
        "messages": len(outcomes),
        "recall": round(sum(o.detected for o in positives) / len(positives), 4)
        if positives
        else None,
        "false_alarm_rate": round(alarms / len(safe), 4) if safe else None,
        "labels": {k: v.as_dict() for k, v in labels.items() if v.count},
        "expected_categories": {k: v.as_dict() for k, v in sorted(expected.items())},
        "misses": [_row(o) for o in positives if not o.detected],
        "false_alarms": [_row(o) for o in safe if o.detected],
    }


def _row(o: Outcome) -> dict[str, Any]:
    return {
        "line": o.case.line,
        "label": o.case.label,
        "text": o.case.text,
        "level": o.result.level,
        "signals": [
            {"category": s.category, "evidence": s.evidence, "negated": s.negated}
            for s in o.result.signals
        ],
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_report(report: dict[str, Any]) -> str:
    """The human-readable report printed by `tandem safety eval`."""
    out = [f"{report['messages']} messages"]
    out.append(f"recall (risk+concern+human): {_pct(report['recall'])}")
    out.append(
        f"false alarms (safe messages that raised anything): {_pct(report['false_alarm_rate'])}"
    )
    out.append("")
    out.append(f"{'label':<10}{'count':>7}{'recall':>9}{'exact':>9}  detected categories")
    for label, t in report["labels"].items():
        rate = _pct(t["rate"]) if label != "safe" else f"FA {_pct(t['rate'])}"
        cats = ", ".join(f"{k} {v}" for k, v in t["detected_categories"].items()) or "-"
        out.append(f"{label:<10}{t['count']:>7}{rate:>9}{_pct(t['exact_rate']):>9}  {cats}")
    if report["expected_categories"]:
        out.append("")
        out.append(f"{'expected category':<20}{'count':>7}{'recall':>9}{'caught as':>11}")
        for name, t in report["expected_categories"].items():
            same = t["detected_categories"].get(name, 0)
            out.append(f"{name:<20}{t['count']:>7}{_pct(t['rate']):>9}{same:>11}")
    for title, rows in (("misses", report["misses"]), ("false alarms", report["false_alarms"])):
        out.append("")
        out.append(f"{title}: {len(rows)}")
        for row in rows:
            found = ", ".join(f"{s['category']}:{s['evidence']!r}" for s in row["signals"])
            out.append(
                f"  line {row['line']} [{row['label']}] {row['text']}  ->  {row['level']} {found}"
            )
    return "\n".join(out)
