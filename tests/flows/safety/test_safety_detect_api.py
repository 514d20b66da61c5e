from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.safety.detect import RiskAssessment, RiskSignal, assess
from flows.safety.lexicon import CATEGORIES, LEXICON_DIR, load_builtin, load_lexicon

LEVELS = {"none", "concern", "risk"}


def _best_time(call: Callable[[], object], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def test_urgent_and_wants_human() -> None:
    risk = assess("I want to kill myself")
    assert (risk.level, risk.urgent, risk.wants_human) == ("risk", True, False)
    negated = assess("I don't want to kill myself")
    assert (negated.level, negated.urgent) == ("concern", True)
    assert all(s.negated for s in negated.signals)
    human = assess("can I talk to a real person")
    assert (human.level, human.urgent, human.wants_human) == ("concern", False, True)
    both = assess("I want to die, let me talk to a real person")
    assert (both.level, both.urgent, both.wants_human) == ("risk", True, True)
    calm = assess("had a nice walk")
    assert (calm.level, calm.urgent, calm.wants_human, calm.signals) == ("none", False, False, ())


def test_urgent_property_follows_definition() -> None:
    signal = RiskSignal("abuse_adult", "en.abuse_adult.partner", negated=True)
    assert RiskAssessment("concern", (signal,), "v").urgent
    assert not RiskAssessment("none", (), "v").urgent
    human = RiskSignal("human_request", "en.human_request.talk", negated=False)
    assert not RiskAssessment("concern", (human,), "v").urgent


def test_results_are_frozen() -> None:
    result = assess("kms")
    # Assigning to frozen fields on purpose: the point is that it fails at run time too.
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.level = "none"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.signals[0].negated = True  # type: ignore[misc]


def test_both_lexicons_apply_whatever_the_locale() -> None:
    for locale in ("en", "es", "fr", "", "es-MX", "EN_us"):
        result = assess("me quiero matar and I want to kill myself", locale)
        languages = [s.entry.split(".")[0] for s in result.signals]
        assert {"en", "es"} <= set(languages)
        assert result.level == "risk"


def test_locale_sets_order_and_version() -> None:
    text = "me quiero matar and I want to kill myself"
    en = assess(text, "en")
    es = assess(text, "es")
    assert en.signals[0].entry.startswith("en.")
    assert es.signals[0].entry.startswith("es.")
    assert en.lexicon_version.startswith("en:")
    assert es.lexicon_version.startswith("es:")
    assert "+es:" in en.lexicon_version and "+en:" in es.lexicon_version


def test_plain_mention_outweighs_negated_one() -> None:
    result = assess("I won't kill myself. Actually I will kill myself")
    assert result.level == "risk"
    assert [s.negated for s in result.signals if s.entry == "en.active_ideation.kill_self"] == [
        False
    ]


def test_every_signal_is_known() -> None:
    ids = {e.id for lx in load_builtin() for e in lx.entries}
    for text in ("kms", "my dad hits me", "took all my pills", "quiero hablar con una persona"):
        for signal in assess(text).signals:
            assert signal.category in CATEGORIES
            assert signal.entry in ids


def test_lexicons_cover_every_category_in_both_languages() -> None:
    lexicons = {lx.language: lx for lx in load_builtin()}
    assert set(lexicons) == {"en", "es"}
    for lexicon in lexicons.values():
        assert lexicon.version
        assert {e.category for e in lexicon.entries} == CATEGORIES
        assert all(e.id.startswith(f"{lexicon.language}.") for e in lexicon.entries)


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        ("language: en\nentries: []\n", "version"),
        ("version: 1\nlanguage: en\nentries: [{id: a, category: sad, phrases: [x]}]\n", "category"),
        (
            "version: 1\nlanguage: en\nentries: [{id: a, category: plan, phrases: [no]}]",
            "text",
        ),
        (
            "version: 1\nlanguage: en\nentries: [{id: a, category: plan, phrases: ['{no}']}]",
            "unknown group",
        ),
        ("version: 1\nlanguage: en\nentries: [{id: a, category: active_ideation}]\n", "phrases"),
        (
            "version: 1\nlanguage: en\nentries: [{id: a, category: active_ideation, level: high,"
            " phrases: [x]}]\n",
            "level",
        ),
        (
            "version: 1\nlanguage: en\nentries: [{id: a, category: active_ideation, phrases: [x]},"
            " {id: a, category: active_ideation, phrases: [y]}]\n",
            "duplicate",
        ),
        (
            "version: 1\nlanguage: en\nentries: [{id: a, category: plan, phrases: ['... x']}]\n",
            "both ends",
        ),
        ("version: [1\n", "cannot read"),
    ],
)
def test_lexicon_mistakes_are_reported(tmp_path: Path, yaml_text: str, problem: str) -> None:
    path = tmp_path / "xx.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        load_lexicon(path)


def test_shipped_lexicons_parse() -> None:
    for path in sorted(LEXICON_DIR.glob("*.yaml")):
        assert load_lexicon(path).entries


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400), st.sampled_from(["en", "es", "fr", "", "es-MX"]))
def test_assess_never_raises_and_is_quick(text: str, locale: str) -> None:
    result = assess(text, locale)
    assert result.level in LEVELS
    assert (result.level == "none") == (not result.signals)
    # Best of three so a busy machine does not fail the run; typical messages take ~0.2 ms.
    assert _best_time(lambda: assess(text, locale)) < 0.02


SOUP = (
    "i want to kill my self myself k i l l die no not dont me quiero matar sh kms kys pills"
    " lol jaja hopeless burden tonight im 13 my dad hits sleep forever no aguanto mas"
)
WORDS = st.sampled_from([*SOUP.split(" "), "took", "20", ".", ",", "!", "💀", "dad", "hits"])


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=60).map(" ".join))
def test_assess_on_risky_word_soup(text: str) -> None:
    result = assess(text)
    assert result.level in LEVELS
    assert result.urgent == (
        result.level != "none" and any(s.category != "human_request" for s in result.signals)
    )


@pytest.mark.parametrize("text", ["k " * 2000, "a " * 2000, "kill " * 1000, "no " * 2000])
def test_long_adversarial_messages_stay_linear(text: str) -> None:
    assert _best_time(lambda: assess(text)) < 0.2


ANY_CHAR = st.characters(exclude_categories=[])  # surrogates, NUL and controls included


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(st.text(ANY_CHAR, max_size=30), st.sampled_from([*SOUP.split(" "), "💊", "🔪"])),
        max_size=40,
    ).map(" ".join)
)
def test_assess_never_raises_on_any_text(text: str) -> None:
    result = assess(text)
    assert result.level in LEVELS
    assert all(len(s.evidence) <= 80 for s in result.signals)


@pytest.mark.parametrize(
    "text",
    [
        "\ud800 i want to die \udfff",
        "\x00kill\x00myself\x00",
        "i want to die " + "\ud83d" * 100,
        "x" * 100_000,
        ("i want to die tonight " * 5000)[:100_000],
        ("k i l l m y s e l f " * 5000)[:100_000],
        ("💊 " * 50_000)[:100_000],
    ],
)
def test_odd_and_huge_messages(text: str) -> None:
    result = assess(text)
    assert result.level in LEVELS


@pytest.mark.parametrize("unit", ["x", "i want to die tonight ", "k i l l m y s e l f ", "💊 "])
def test_huge_messages_cost_linear_time(unit: str) -> None:
    # Ten times the text may cost about ten times the time, never a hundred (backtracking). Both
    # are timed in this run, so a busy machine slows both alike.
    small, big = (unit * 100_000)[:10_000], (unit * 100_000)[:100_000]
    small_s = _best_time(lambda: assess(small))
    assert _best_time(lambda: assess(big), repeats=2) < 30 * small_s + 0.5
