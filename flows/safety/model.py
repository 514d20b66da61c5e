"""The statistical second opinion: a linear model over hashed word and character n-grams.

It catches what no lexicon phrase names (indirect wording, new slang, a plan told as a story)
and can only ever raise a concern, never quiet the lexicon: either layer raising one is enough.
Two heads: `urgent` (risk or concern) and `human` (asks for a person). Weights are trained
offline by `tandem safety train` on the labelled texts in tests/flows/safety (corpus and
training/), and ship as `model.json`; nothing is downloaded or trained at run time.
"""

from __future__ import annotations

import json
import math
import zlib
from array import array
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

MODEL_FILE = Path(__file__).with_name("model.json")
BITS = 18
_MASK = (1 << BITS) - 1
FORMAT = 2
# Chosen on two blind sets written apart from the training texts (README, "second opinion"):
# lower thresholds caught more and raised false alarms on everyday replies.
URGENT_THRESHOLD = 0.5
HUMAN_THRESHOLD = 0.5


def features(normalized: str) -> list[int]:
    """Hashed features of normalised, idiom-masked text: words, word pairs, 3-5 char grams."""
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
class Head:
    bias: float
    # Dense over the hashed feature space: 2 MB a head, where a dict of ~70k boxed floats
    # cost ~9 MB in every process.
    weights: array[float]

    def probability(self, found: list[int]) -> float:
        if not found:
            return 0.0
        z = self.bias + sum(self.weights[i] for i in found) / math.sqrt(len(found))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Model:
    urgent: Head
    human: Head
    data_sha256: str

    def evidence(self, normalized: str, count: int = 3) -> list[str]:
        """The words that pushed the urgent head most, so a coach sees why it spoke."""
        words = {w for w in normalized.replace("|", " ").split() if "#" not in w}
        weight = {w: self.urgent.weights[word_feature(w)] for w in words}
        ranked = sorted((w for w in words if weight[w] > 0), key=lambda w: (-weight[w], w))
        return ranked[:count]


def _head(raw: dict[str, object]) -> Head:
    weights = raw.get("weights")
    if not isinstance(weights, dict):
        raise ValueError("model head without weights")
    dense = array("d", bytes(8 << BITS))
    for key, value in weights.items():
        dense[int(key)] = float(value)
    return Head(float(str(raw["bias"])), dense)


@lru_cache(maxsize=1)
def load(path: Path = MODEL_FILE) -> Model | None:
    """The shipped model (read once), or None when there is no weights file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if data.get("format") != FORMAT or data.get("bits") != BITS:
        raise ValueError(f"{path}: unknown model format; run `tandem safety train`")
    return Model(_head(data["urgent"]), _head(data["human"]), str(data["data_sha256"]))
