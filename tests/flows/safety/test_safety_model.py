"""The statistical second opinion: shipped, current, deterministic, and only ever a concern."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.safety.detect import MODEL_ENTRY, assess, prepared
from flows.safety.evaluate import load_corpus
from flows.safety.lexicon import CATEGORIES
from flows.safety.model import MODEL_FILE, THRESHOLD, dumps, load, train
from flows.safety.training import DEFAULT_CORPUS, train_corpus


def test_shipped_weights_are_current() -> None:
    """Regenerate with `tandem safety train` after changing the corpus or the idiom list."""
    fresh = dumps(train_corpus(load_corpus(DEFAULT_CORPUS)))
    assert MODEL_FILE.read_text(encoding="utf-8") == fresh, "run `tandem safety train`"


def test_model_speaks_only_when_the_lexicon_is_silent_and_only_as_concern() -> None:
    model = load()
    assert model is not None
    text = "i dont see myself being around next year"
    assert model.probability(prepared(text)) >= THRESHOLD
    result = assess(text)
    assert result.level == "concern"
    (signal,) = result.signals
    assert (signal.source, signal.entry, signal.negated) == ("model", MODEL_ENTRY, False)
    assert signal.category in CATEGORIES
    assert signal.evidence and all(w in text for w in signal.evidence.split(" … "))
    # A lexicon hit keeps the explainable lexicon signals only.
    assert all(s.source == "lexicon" for s in assess("i want to die").signals)


def test_everyday_messages_stay_below_the_threshold() -> None:
    model = load()
    assert model is not None
    for text in ("walked the dog, felt ok", "what time is my session", "me fue bien hoy"):
        assert model.probability(prepared(text)) < THRESHOLD


def test_training_is_deterministic_and_needs_both_classes() -> None:
    examples = [
        ("i want out", "hopelessness"),
        ("nice walk", "safe"),
        ("cant go on", "hopelessness"),
    ]
    assert dumps(train(examples)) == dumps(train(list(examples)))
    with pytest.raises(ValueError, match="both"):
        train([("nice walk", "safe")])


def test_missing_or_foreign_weights_file(tmp_path: Path) -> None:
    assert load(tmp_path / "none.json") is None
    odd = tmp_path / "odd.json"
    odd.write_text('{"format": 9}', encoding="utf-8")
    with pytest.raises(ValueError, match="tandem safety train"):
        load(odd)
