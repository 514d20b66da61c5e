from __future__ import annotations

import pytest

from flows.measures import (
    MEASURE_IDS,
    Item,
    band_label,
    get_measure,
    item_prompt,
)
from flows.measures.model import MeasureDataError, catalog, load_catalog

EN_OPTIONS = ["Not at all", "Several days", "More than half the days", "Nearly every day"]
ES_OPTIONS = ["Para nada", "Varios días", "Más de la mitad de los días", "Casi todos los días"]
EN_DIFFICULTY = [
    "Not difficult at all",
    "Somewhat difficult",
    "Very difficult",
    "Extremely difficult",
]

# Bands exactly as in CLINICAL.md ("Measures").
EXPECTED_BANDS = {
    "phq9": [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately_severe"),
        (20, 27, "severe"),
    ],
    "gad7": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")],
    "phq2": [(0, 2, "negative"), (3, 6, "positive")],
    "gad2": [(0, 2, "negative"), (3, 6, "positive")],
}


def test_measure_ids() -> None:
    assert MEASURE_IDS == ("phq9", "gad7", "phq2", "gad2")
    assert [get_measure(m).id for m in MEASURE_IDS] == list(MEASURE_IDS)


@pytest.mark.parametrize("measure_id", MEASURE_IDS)
def test_bands_match_clinical_reference(measure_id: str) -> None:
    bands = [(b.low, b.high, b.label) for b in get_measure(measure_id).bands]
    assert bands == EXPECTED_BANDS[measure_id]


@pytest.mark.parametrize(
    ("measure_id", "n_items", "n_scored", "max_total", "positive_at"),
    [
        ("phq9", 10, 9, 27, None),
        ("gad7", 7, 7, 21, None),
        ("phq2", 2, 2, 6, 3),
        ("gad2", 2, 2, 6, 3),
    ],
)
def test_shape(
    measure_id: str, n_items: int, n_scored: int, max_total: int, positive_at: int | None
) -> None:
    m = get_measure(measure_id)
    assert len(m.items) == n_items
    assert sum(i.scored for i in m.items) == n_scored
    assert [i.number for i in m.items] == list(range(1, n_items + 1))
    assert m.max_total == max_total
    assert m.positive_at == positive_at


def test_phq9_tenth_item_is_unscored_difficulty_and_item9_is_scored() -> None:
    items = get_measure("phq9").items
    assert items[9].key == "difficulty" and not items[9].scored
    assert items[8].scored
    assert "better off dead" in items[8].texts["en"]


@pytest.mark.parametrize(("screener", "parent"), [("phq2", "phq9"), ("gad2", "gad7")])
def test_screeners_share_parent_items(screener: str, parent: str) -> None:
    s, p = get_measure(screener), get_measure(parent)
    assert s.items[0] is p.items[0]
    assert s.items[1] is p.items[1]


def test_published_wordings() -> None:
    phq9, gad7 = get_measure("phq9"), get_measure("gad7")
    assert phq9.items[0].texts["en"] == "Little interest or pleasure in doing things"
    assert phq9.items[0].texts["es"] == "Poco interés o placer en hacer cosas"
    assert phq9.items[1].texts["en"] == "Feeling down, depressed, or hopeless"
    assert gad7.items[0].texts["en"] == "Feeling nervous, anxious, or on edge"
    assert gad7.items[1].texts["en"] == "Not being able to stop or control worrying"
    assert gad7.items[3].texts["en"] == "Trouble relaxing"


@pytest.mark.parametrize("measure_id", MEASURE_IDS)
def test_every_item_has_en_and_es_and_unique_keys(measure_id: str) -> None:
    items = get_measure(measure_id).items
    assert len({i.key for i in items}) == len(items)
    for item in items:
        assert isinstance(item, Item)
        assert set(item.texts) == {"en", "es"}
        assert item.texts["en"] != item.texts["es"]


def test_unknown_measure_id() -> None:
    with pytest.raises(ValueError, match=r"unknown measure id 'phq8'.*phq9, gad7, phq2, gad2"):
        get_measure("phq8")


def test_first_item_prompt_has_lead_in_and_options() -> None:
    assert item_prompt("phq9", 1, "en") == (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
        "\nLittle interest or pleasure in doing things?"
        "\n0 Not at all\n1 Several days\n2 More than half the days\n3 Nearly every day"
    )


def test_later_item_prompt_has_no_lead_in() -> None:
    assert item_prompt("gad7", 4, "en") == (
        "Trouble relaxing?\n0 Not at all\n1 Several days\n2 More than half the days"
        "\n3 Nearly every day"
    )


def test_spanish_prompt() -> None:
    text = item_prompt("phq9", 2, "es")
    assert text.split("\n") == [
        "¿Se ha sentido decaído(a), deprimido(a) o sin esperanzas?",
        *(f"{n} {label}" for n, label in enumerate(ES_OPTIONS)),
    ]
    assert item_prompt("gad7", 1, "es").startswith("Durante las últimas 2 semanas")


@pytest.mark.parametrize(("screener", "parent"), [("phq2", "phq9"), ("gad2", "gad7")])
def test_screener_prompts_equal_parent_prompts(screener: str, parent: str) -> None:
    for locale in ("en", "es"):
        assert item_prompt(screener, 1, locale) == item_prompt(parent, 1, locale)
        assert item_prompt(screener, 2, locale) == item_prompt(parent, 2, locale)


def test_difficulty_prompt_uses_difficulty_options() -> None:
    lines = item_prompt("phq9", 10, "en").split("\n")
    assert lines[0].startswith("If you checked off any problems, how difficult")
    assert lines[1:] == [f"{n} {label}" for n, label in enumerate(EN_DIFFICULTY)]
    assert item_prompt("phq9", 10, "es").split("\n")[-1] == "3 Extremadamente difícil"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("fr", "en"), ("", "en"), ("es-MX", "es"), ("ES_us", "es"), ("en-GB", "en")],
)
def test_locale_fallback(locale: str, expected: str) -> None:
    assert item_prompt("gad7", 3, locale) == item_prompt("gad7", 3, expected)


@pytest.mark.parametrize(
    ("measure_id", "number"), [("phq9", 0), ("phq9", 11), ("phq2", 3), ("gad7", 8)]
)
def test_prompt_for_missing_item(measure_id: str, number: int) -> None:
    with pytest.raises(ValueError, match="has no item"):
        item_prompt(measure_id, number, "en")


def test_english_prompts_are_gsm7_and_at_most_two_segments() -> None:
    for measure_id in ("phq9", "gad7"):
        for item in get_measure(measure_id).items:
            text = item_prompt(measure_id, item.number, "en")
            assert text.isascii(), text  # ASCII stays in GSM-7: no UCS-2 surcharge
            assert len(text) <= 2 * 153, (item.number, len(text))


@pytest.mark.parametrize(
    ("measure_id", "band", "en", "es"),
    [
        ("phq9", "minimal", "Minimal", "Mínima"),
        ("phq9", "mild", "Mild", "Leve"),
        ("phq9", "moderate", "Moderate", "Moderada"),
        ("phq9", "moderately_severe", "Moderately severe", "Moderadamente grave"),
        ("phq9", "severe", "Severe", "Grave"),
        ("gad7", "severe", "Severe", "Grave"),
        ("phq2", "positive", "Positive screen", "Resultado positivo"),
        ("gad2", "negative", "Negative screen", "Resultado negativo"),
    ],
)
def test_band_label(measure_id: str, band: str, en: str, es: str) -> None:
    assert band_label(measure_id, band, "en") == en
    assert band_label(measure_id, band, "es") == es
    assert band_label(measure_id, band, "de") == en


@pytest.mark.parametrize(
    ("measure_id", "band"),
    [("gad7", "moderately_severe"), ("phq2", "severe"), ("phq9", "positive"), ("phq9", "nope")],
)
def test_band_label_rejects_band_of_other_measure(measure_id: str, band: str) -> None:
    with pytest.raises(ValueError, match="has no band"):
        band_label(measure_id, band, "en")


def _packaged_yaml() -> str:
    from importlib import resources

    return resources.files("flows.measures").joinpath("measures.yaml").read_text(encoding="utf-8")


def test_packaged_yaml_round_trips() -> None:
    assert load_catalog(_packaged_yaml()) == catalog()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{low: 5, high: 9, label: mild}", "{low: 6, high: 9, label: mild}", "contiguous"),
        ("{low: 20, high: 27, label: severe}", "{low: 20, high: 26, label: severe}", "not 27"),
        ("{low: 15, high: 21, label: severe}", "{low: 15, high: 21, label: dire}", "no words"),
        ("  gad2:\n", "  gad3:\n", "expected"),
        ("      - number: 4\n", "      - number: 5\n", "numbered"),
        ('          es: "Ha tenido dificultad para relajarse"', '          fr: "x"', "locales"),
    ],
)
def test_loader_rejects_broken_data(old: str, new: str, message: str) -> None:
    text = _packaged_yaml()
    assert old in text
    with pytest.raises(MeasureDataError, match=message):
        load_catalog(text.replace(old, new, 1))
