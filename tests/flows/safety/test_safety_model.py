"""The statistical second opinion: shipped weights match the training texts, it raises only a
concern (never lowers the lexicon), and it says which words moved it."""

from __future__ import annotations

import pytest

from bot.safetytrain import data_files, data_sha256
from flows.safety import assess
from flows.safety.detect import MODEL_CATEGORY, model_text
from flows.safety.model import features, load


def test_shipped_weights_match_the_training_texts() -> None:
    model = load()
    assert model is not None, "flows/safety/model.json is missing: run `tandem safety train`"
    assert model.data_sha256 == data_sha256(data_files()), (
        "training texts changed since model.json was written: run `tandem safety train`"
    )


@pytest.mark.parametrize(
    "text",
    [
        "i'm standing on the roof of the parking garage and i don't want to go back inside",
        "estoy parada en el andén esperando el próximo tren, ya no quiero volver a casa",
    ],
)
def test_it_raises_what_the_lexicon_has_no_phrase_for(text: str) -> None:
    result = assess(text)
    assert result.urgent and result.level in ("risk", "concern")


def test_it_never_lowers_the_lexicon() -> None:
    result = assess("i want to kill myself tonight")
    assert result.level == "risk"
    assert all(s.source == "lexicon" for s in result.signals)


def test_its_signal_says_where_it_came_from() -> None:
    model = load()
    assert model is not None
    text = "i'm standing on the roof of the parking garage and i don't want to go back inside"
    result = assess(text)
    ours = [s for s in result.signals if s.source == "model"]
    if ours:  # the lexicon may already know the wording; then the model stays quiet
        assert ours[0].category == MODEL_CATEGORY and result.level == "concern"
        assert model.urgent.probability(features(model_text(text))) >= 0.5
