"""Per category and level, in both languages: what each detection says and why."""

from __future__ import annotations

import pytest

from flows.safety.detect import assess
from flows.safety.lexicon import CATEGORIES

RISK, CONCERN, NONE = "risk", "concern", "none"

# (text, level, category that must be among the un-negated signals)
CASES: list[tuple[str, str, str]] = [
    ("i wish i could go to sleep and not wake up", CONCERN, "passive_ideation"),
    ("ojalá no despertara mañana", CONCERN, "passive_ideation"),
    ("i keep thinking about killing myself", RISK, "active_ideation"),
    ("pienso en suicidarme", RISK, "active_ideation"),
    ("been googling painless ways to die", RISK, "method"),
    ("pienso en tirarme del puente", RISK, "method"),
    ("I'm going to end my life and nobody can stop me", RISK, "intent"),
    ("esta vez sí lo voy a hacer", RISK, "intent"),
    ("i want to die tonight", RISK, "plan"),
    ("esta noche me mato", RISK, "plan"),
    ("i have the pills lined up", RISK, "preparatory"),
    ("ya escribí las cartas de despedida", RISK, "preparatory"),
    ("i took the whole bottle an hour ago", RISK, "attempt"),
    ("me tomé todas las pastillas", RISK, "attempt"),
    ("i cut again last night", RISK, "self_harm"),
    ("me volví a cortar", RISK, "self_harm"),
    ("my husband hit me again", RISK, "abuse_adult"),
    ("mi marido me golpea cuando toma", RISK, "abuse_adult"),
    ("my stepdad comes into my room at night", RISK, "abuse_child"),
    ("mi padrastro me toca", RISK, "abuse_child"),
    ("someone drugged me and assaulted me", RISK, "sexual_abuse"),
    ("me violaron en una fiesta", RISK, "sexual_abuse"),
    ("im going to stab my brother", RISK, "violence"),
    ("voy a matar a mi padrastro", RISK, "violence"),
    ("i throw up after every meal", CONCERN, "eating_disorder"),
    ("tomo laxantes para bajar de peso", CONCERN, "eating_disorder"),
    ("everyone would be better off without me", CONCERN, "hopelessness"),
    ("soy una carga para mi familia", CONCERN, "hopelessness"),
    ("can i talk to a real person", CONCERN, "human_request"),
    ("quiero hablar con una persona", CONCERN, "human_request"),
    # slang, text-speak, obfuscation, emoji, code-switching
    ("thinking about sewerslide", RISK, "active_ideation"),
    ("i wanna unalive fr", RISK, "active_ideation"),
    ("kmsssss", RISK, "active_ideation"),
    ("i w a n t t o d i e", RISK, "active_ideation"),
    ("I WANT TO DIIIIE", RISK, "active_ideation"),
    ("su1c1dal again", RISK, "active_ideation"),
    ("🔪 myself tonight", RISK, "plan"),
    ("💊💊💊 tonight", RISK, "plan"),
    ("honestly ya no quiero vivir", RISK, "active_ideation"),
    ("boludo me quiero matar posta", RISK, "active_ideation"),
    ("neta ya me quiero morir", RISK, "active_ideation"),
]


def _check(text: str, level: str, category: str) -> None:
    for locale in ("en", "es"):
        result = assess(text, locale)
        assert result.level == level, (locale, result)
        assert category in {s.category for s in result.signals if not s.negated}, result


@pytest.mark.parametrize(("text", "level", "category"), CASES)
def test_category_table(text: str, level: str, category: str) -> None:
    _check(text, level, category)


def test_table_covers_every_category_in_both_languages() -> None:
    covered = {c for _, _, c in CASES}
    assert covered == CATEGORIES


@pytest.mark.parametrize(
    "text",
    [
        "this traffic is killing me",
        "i'm dying to see that movie",
        "i would kill for a coffee",
        "i almost died of embarrassment",
        "overdosed on coffee this morning lol",
        "overdosed on netflix all weekend",
        "killing time before my appointment",
        "dead tired after work",
        "me muero de risa",
        "me muero de hambre",
        "me mato de la risa con este video",
        "estoy muerta de cansancio",
        "my mom is gonna kill me when she sees my grades",
        "i need to cut back on sugar",
        "we covered suicide prevention in class",
        "what's the point of this meeting lol",
        "no aguanto más este calor",
        "tonight we're having pizza",
        "i took 2 advil for my cramps",
        "cut the cake! 🎂🔪",
        "lol im dead 💀",
        # neutral replies from the flows (a statistical layer once flagged these)
        "worry about everything",
        "Not being able to stop",
        "honestly nearly every day, it's been rough",
        "Would you like to join?",
        "Thanks. Anything you'd like to add",
        "Talked it through; safe tonight.",
        # words that squeeze or sit close to risk words
        "breathe in through your nose for 4, hold for 7",
        "i got trapped in traffic",
        "i carved the turkey",
        "drank half a bottle of wine",
        "i take a lot of meds for my heart",
        "take this pill after every meal",
        "i did it on purpose lol",
        "purge my closet this weekend",
        "that comment cut deep",
        "es una calle sin salida",
        "tengo ganas de vivir la vida",
    ],
)
def test_idioms_and_everyday_talk_stay_quiet(text: str) -> None:
    for locale in ("en", "es"):
        assert assess(text, locale).level == NONE, text


@pytest.mark.parametrize(
    ("text", "evidence"),
    [
        ("ok so.. honestly I wanna K1LL MYSELF tbh", "K1LL MYSELF"),
        ("i   bought a  rope", "bought a rope"),
        ("Ya no quiero vivir, de verdad", "Ya no quiero vivir,"),
        ("i want to k i l l myself", "k i l l myself"),
        ("Overdosed last night 💊", "Overdosed"),
    ],
)
def test_evidence_is_quoted_from_the_original_message(text: str, evidence: str) -> None:
    result = assess(text)
    assert evidence in {s.evidence for s in result.signals}, result
    assert all(s.source == "lexicon" for s in result.signals)
    # Runs of spaces are squeezed; the words themselves are as written.
    assert all(
        len(s.evidence) <= 80 and s.evidence in " ".join(text.split()) for s in result.signals
    )


def test_evidence_is_short_for_long_messages() -> None:
    text = "i want to die " + "blah " * 500
    result = assess(text)
    assert result.level == RISK
    assert all(len(s.evidence) <= 80 for s in result.signals)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I'm not suicidal", "active_ideation"),
        ("i would never hurt myself", "self_harm"),
        ("dont worry im not going to kill myself", "active_ideation"),
        ("no quiero morir", "active_ideation"),
        ("nunca me haría daño", "self_harm"),
        ("no soy suicida, solo estoy triste", "active_ideation"),
    ],
)
def test_negation_is_a_gentle_check_never_silence(text: str, category: str) -> None:
    result = assess(text)
    assert result.level == CONCERN, result
    assert result.urgent
    assert {s.category for s in result.signals if s.negated} >= {category}, result


def test_negated_mentions_are_marked_and_plain_ones_win() -> None:
    negated = assess("I'm not going to kill myself")
    assert negated.level == CONCERN
    assert all(s.negated for s in negated.signals if s.category == "active_ideation")
    both = assess("I'm not okay, I want to die")
    assert both.level == RISK


def test_timing_alone_is_not_a_plan() -> None:
    assert assess("tonight im making pasta").level == NONE
    # ...nor beside a negated mention.
    result = assess("i'm not going to kill myself tonight")
    assert result.level == CONCERN
    assert "plan" not in result.categories


@pytest.mark.parametrize(
    ("text", "safeguarding", "categories"),
    [
        ("im 13 and my dad hits me", True, {"abuse_child"}),
        ("my teacher said its our secret and touched me", True, {"abuse_child"}),
        ("im 14 and he raped me", True, {"sexual_abuse"}),
        ("a man online keeps asking me for pics and im 12", True, {"sexual_abuse"}),
        ("tengo 12 años y un hombre me manosea", True, {"sexual_abuse"}),
        ("i'm 15 and my boyfriend hits me", True, {"abuse_child"}),
        ("my husband hits me", False, {"abuse_adult"}),
        ("i was raped at a party", False, {"sexual_abuse"}),
        ("im 13 and i love volleyball", False, set()),
    ],
)
def test_safeguarding(text: str, safeguarding: bool, categories: set[str]) -> None:
    result = assess(text)
    assert result.safeguarding is safeguarding, result
    assert categories <= set(result.categories), result
    if safeguarding:
        assert result.level == RISK


def test_categories_property_is_sorted_and_unique() -> None:
    result = assess("i want to die tonight, i have the pills ready and i cut myself")
    assert list(result.categories) == sorted(set(result.categories))
    assert {"active_ideation", "plan", "preparatory", "self_harm"} <= set(result.categories)
