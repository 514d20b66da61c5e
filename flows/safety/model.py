"""The statistical second opinion: hashed character and word n-grams, logistic regression.

Trained on the labelled corpus by `tandem safety train` (deterministic: same corpus, same
weights file). It only ever raises ``concern`` and only when the lexicon found nothing, so it
catches paraphrases the lexicon has no phrase for while the lexicon stays the explainable
first line. Nothing is downloaded; the weights ship as ``model.json`` beside this file.
"""

from __future__ import annotations

import json
import math
import zlib
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

K = TypeVar("K", int, str)

MODEL_FILE = Path(__file__).with_name("model.json")
_BITS = 18
_MASK = (1 << _BITS) - 1
_EPOCHS = 30
_RATE = 1.0
_DECAY = 1e-5
# Chosen on held-out splits (train on earlier corpus batches, score a later, unseen batch with
# the lexicon as it was before that batch): lower let everyday Spanish through as alarms,
# higher gave back most of the recall gained.
THRESHOLD = 0.6
_SAFE = "safe"


def features(normalized: str) -> list[int]:
    """Hashed features of normalised (idiom-masked) text: words, word pairs, 3-5 char grams."""
    words = [w for w in normalized.replace("|", " ").split() if "#" not in w]
    found = {f"w:{w}" for w in words}
    found.update(f"b:{a}_{b}" for a, b in pairwise(words))
    padded = f" {' '.join(words)} "
    for n in (3, 4, 5):
        found.update(f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1))
    return sorted({zlib.crc32(f.encode()) & _MASK for f in found})


def word_feature(word: str) -> int:
    return zlib.crc32(f"w:{word}".encode()) & _MASK


@dataclass(frozen=True)
class Model:
    weights: dict[int, float]
    bias: float
    # Naive-Bayes word log-probabilities per category, to name what the model thinks it saw.
    categories: dict[str, dict[str, float]]
    unseen: dict[str, float]

    def probability(self, normalized: str) -> float:
        found = features(normalized)
        if not found:
            return 0.0
        z = self.bias + sum(self.weights.get(i, 0.0) for i in found) / math.sqrt(len(found))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def category(self, normalized: str) -> str:
        words = normalized.replace("|", " ").split()
        return max(
            sorted(self.categories),
            key=lambda c: sum(self.categories[c].get(w, self.unseen[c]) for w in words),
        )

    def evidence_words(self, normalized: str, count: int = 3) -> list[str]:
        words = [w for w in normalized.replace("|", " ").split() if "#" not in w]
        ranked = sorted(set(words), key=lambda w: -self.weights.get(word_feature(w), 0.0))
        return [w for w in ranked[:count] if self.weights.get(word_feature(w), 0.0) > 0]


def train(examples: list[tuple[str, str]]) -> Model:
    """Fit on (normalised text, category or "safe") pairs, in the order given."""
    positives = sum(1 for _, c in examples if c != _SAFE)
    negatives = len(examples) - positives
    if not positives or not negatives:
        raise ValueError("training needs both safe and unsafe examples")
    weight_of = {True: len(examples) / (2 * positives), False: len(examples) / (2 * negatives)}
    data = [(features(text), c != _SAFE) for text, c in examples]
    w: dict[int, float] = {}
    bias = 0.0
    for _ in range(_EPOCHS):
        for found, positive in data:
            if not found:
                continue
            scale = math.sqrt(len(found))
            z = bias + sum(w.get(i, 0.0) for i in found) / scale
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - (1.0 if positive else 0.0)) * weight_of[positive]
            step = _RATE * g / scale
            for i in found:
                w[i] = w.get(i, 0.0) * (1.0 - _RATE * _DECAY) - step
            bias -= _RATE * g
    counts: dict[str, Counter[str]] = {}
    for text, c in examples:
        if c != _SAFE:
            counts.setdefault(c, Counter()).update(text.replace("|", " ").split())
    vocabulary = len({word for counter in counts.values() for word in counter})
    categories: dict[str, dict[str, float]] = {}
    unseen: dict[str, float] = {}
    for c, counter in counts.items():
        total = sum(counter.values()) + vocabulary
        categories[c] = {word: math.log((n + 1) / total) for word, n in counter.items()}
        unseen[c] = math.log(1 / total)
    return Model(_rounded(w), round(bias, 4), _rounded_nested(categories), _rounded(unseen))


def _rounded(values: dict[K, float]) -> dict[K, float]:
    return {k: round(v, 4) for k, v in sorted(values.items()) if round(v, 4) != 0.0}


def _rounded_nested(values: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {k: {w: round(v, 3) for w, v in sorted(inner.items())} for k, inner in values.items()}


def dumps(model: Model) -> str:
    """The weights file's exact text (stable: sorted keys, rounded numbers)."""
    payload = {
        "format": 1,
        "bits": _BITS,
        "bias": model.bias,
        "weights": {str(k): v for k, v in sorted(model.weights.items())},
        "categories": model.categories,
        "unseen": model.unseen,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")) + "\n"


def load(path: Path = MODEL_FILE) -> Model | None:
    """The shipped model, or None when there is no weights file (the lexicon works alone)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if data.get("format") != 1 or data.get("bits") != _BITS:
        raise ValueError(f"{path}: unknown model format; run `tandem safety train`")
    return Model(
        weights={int(k): float(v) for k, v in data["weights"].items()},
        bias=float(data["bias"]),
        categories=data["categories"],
        unseen=data["unseen"],
    )
