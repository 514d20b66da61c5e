"""Builds the second-opinion model from the labelled corpus (`tandem safety train`)."""

from __future__ import annotations

from pathlib import Path

from flows.safety.detect import prepared
from flows.safety.evaluate import Case
from flows.safety.model import Model, train

DEFAULT_CORPUS = Path(__file__).parents[2] / "tests" / "flows" / "safety" / "corpus.tsv"
# A line without an expected category still teaches "unsafe"; these name it for the model.
_DEFAULT_CATEGORY = {"risk": "active_ideation", "concern": "hopelessness", "human": "human_request"}


def examples(cases: list[Case]) -> list[tuple[str, str]]:
    """(prepared text, category or "safe") for every case, in file order."""
    return [
        (
            prepared(c.text),
            "safe" if c.label == "safe" else c.category or _DEFAULT_CATEGORY[c.label],
        )
        for c in cases
    ]


def train_corpus(cases: list[Case]) -> Model:
    """The model for ``cases`` (same cases, same weights)."""
    return train(examples(cases))
