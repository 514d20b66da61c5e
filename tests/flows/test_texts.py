"""The one text service: every text is `namespace.key` in `content/<locale>/<namespace>.yaml`,
found by one fallback rule (locale, language, English) and rendered with one syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from flows.library import FlowLibrary
from flows.texts import ContentError, ContentTexts, fallback_locales, lookup, text


def _write(root: Path, locale: str, namespace: str, body: str) -> None:
    (root / locale).mkdir(parents=True, exist_ok=True)
    (root / locale / f"{namespace}.yaml").write_text(body, encoding="utf-8")


@pytest.fixture
def texts(tmp_path: Path) -> ContentTexts:
    _write(tmp_path, "en", "demo", 'hi: "Hi {{ name }}!"\nonly_en: "English"\nboth: "en"\n')
    _write(tmp_path, "es", "demo", 'hi: "¡Hola, {{ name }}!"\nboth: "es"\n')
    _write(tmp_path, "es-MX", "demo", 'both: "es-MX"\n')
    return ContentTexts(tmp_path)


@pytest.mark.parametrize(
    ("locale", "order"),
    [
        ("en", ("en",)),
        ("es", ("es", "en")),
        ("es-MX", ("es-MX", "es", "en")),
        ("es_MX", ("es_MX", "es", "en")),
        ("fr", ("fr", "en")),
    ],
)
def test_fallback_order_is_locale_then_language_then_english(
    locale: str, order: tuple[str, ...]
) -> None:
    assert fallback_locales(locale) == order


def test_the_most_specific_locale_wins(texts: ContentTexts) -> None:
    assert texts.source("demo.both", "es-MX") == "es-MX"
    assert texts.source("demo.both", "es-AR") == "es"
    assert texts.source("demo.both", "es") == "es"
    assert texts.source("demo.both", "fr") == "en"
    assert texts.source("demo.only_en", "es-MX") == "English"


def test_texts_render_with_the_flow_syntax(texts: ContentTexts) -> None:
    assert texts.text("demo.hi", "es-MX", name="Ana") == "¡Hola, Ana!"
    assert texts.text("demo.hi", "en", name="{x} <b>") == "Hi {x} <b>!"  # values used as given


def test_an_undefined_variable_is_a_content_error(texts: ContentTexts) -> None:
    with pytest.raises(ContentError, match="name"):
        texts.text("demo.hi", "en")


def test_a_missing_text_names_the_key_and_the_locales_tried(texts: ContentTexts) -> None:
    with pytest.raises(KeyError, match=r"'demo\.nope'.*es-MX, es, en"):
        texts.source("demo.nope", "es-MX")
    with pytest.raises(KeyError, match=r"'other\.hi'"):
        texts.source("other.hi", "en")  # no such namespace
    with pytest.raises(KeyError, match=r"'namespace\.key'"):
        texts.source("hi", "en")


def test_lookup_is_the_rule_flows_use_too(library: FlowLibrary) -> None:
    tables = {"en": {"a": "A", "empty": "E"}, "es": {"empty": ""}}
    assert lookup(tables, "a", "es") == "A"
    assert lookup(tables, "empty", "es") == ""  # present, even when empty
    flow = library.get("anx_worry")
    assert flow.text("log_saved", "es-MX") == flow.text("log_saved", "es")
    with pytest.raises(KeyError, match=r"'anx_worry\.nope'"):
        flow.text("nope", "es")


def test_the_shared_content_is_the_flows_content(library: FlowLibrary) -> None:
    flow = library.get("anx_worry")
    site = {"program": "Tandem", "support": "your care team"}
    assert text("anx_worry.log_saved", "es", site=site, patient={}) == flow.text("log_saved", "es")
    assert text("common.menu_back", "es") == flow.text("common.menu_back", "es")


@pytest.mark.parametrize("namespace", ["coaching", "compliance", "keywords", "scheduling"])
def test_every_bot_text_is_in_spanish_too(namespace: str) -> None:
    tables = ContentTexts().tables(namespace)
    english, spanish = tables["en"], tables["es"]
    bilingual = {"language_help"}  # one text in both languages, for every locale
    assert set(english) - bilingual == set(spanish)


def test_the_english_default_support_contact_is_the_settings_default() -> None:
    default = Settings.model_fields["support_contact"].default
    assert text("compliance.default_support", "en") == default
