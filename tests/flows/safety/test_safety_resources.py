from __future__ import annotations

from pathlib import Path

import pytest

from flows.safety.resources import (
    CrisisResources,
    crisis_resources,
    load_resource_table,
)

# Every number and keyword CLINICAL.md requires, per country.
REQUIRED = {
    "US": ["988", "988lifeline.org", "HOME", "741741", "911"],
    "GB": ["Samaritans", "116 123", "SHOUT", "85258", "999"],
    "ES": ["024", "112"],
}
# Safe messaging: no method words in a crisis message.
FORBIDDEN = ["pill", "overdose", "hang", "cut", "gun", "knife", "pastilla", "cuchillo"]


@pytest.mark.parametrize("country", sorted(REQUIRED))
@pytest.mark.parametrize("locale", ["en", "es"])
def test_every_country_has_required_numbers(country: str, locale: str) -> None:
    res = crisis_resources(locale, country)
    assert res == CrisisResources(res.country, locale, res.message, res.safety_question)
    assert res.country == country
    for item in REQUIRED[country]:
        assert item in res.message
    lowered = res.message.lower()
    assert not [w for w in FORBIDDEN if w in lowered]
    assert len(res.message) <= 320  # two SMS segments at most
    assert "\n" not in res.message


@pytest.mark.parametrize(
    ("locale", "question"),
    [("en", "Are you safe right now? Reply YES or NO."), ("es", "¿Estás a salvo ahora mismo?")],
)
def test_safety_question_in_locale(locale: str, question: str) -> None:
    assert crisis_resources(locale).safety_question.startswith(question)


@pytest.mark.parametrize(
    ("locale", "country", "want_country", "want_locale"),
    [
        ("en", None, "US", "en"),
        ("es", None, "ES", "es"),
        ("es", "US", "US", "es"),
        ("en", "ES", "ES", "en"),
        ("en", "uk", "GB", "en"),
        ("en", "GB", "GB", "en"),
        ("en-GB", None, "GB", "en"),
        ("es_US", None, "US", "es"),
        ("es-MX", None, "ES", "es"),
        ("fr", None, "US", "en"),
        ("fr", "ES", "ES", "es"),
        ("de", "FR", "US", "en"),
        ("", "", "US", "en"),
        ("en", "ZZ", "US", "en"),
        ("es", "ZZ", "ES", "es"),
        ("??", "  ", "US", "en"),
    ],
)
def test_fallbacks(locale: str, country: str | None, want_country: str, want_locale: str) -> None:
    res = crisis_resources(locale, country)
    assert (res.country, res.locale) == (want_country, want_locale)
    assert res.message and res.safety_question


OVERRIDE = """
version: site-1
default_country: GB
locale_countries: {en: GB}
countries:
  CA:
    default_locale: en
    messages:
      en:
        message: Call or text 988 any time. In immediate danger, call 911.
        safety_question: Are you safe right now? Reply YES or NO.
  US:
    default_locale: en
    messages:
      en:
        message: Our clinic line is 555-0100. Call or text 988. In danger, call 911.
        safety_question: Are you safe now? YES or NO.
"""


def test_override_file(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(OVERRIDE, encoding="utf-8")
    table = load_resource_table(path)
    assert set(table.countries) == {"US", "GB", "ES", "CA"}
    assert table.version.endswith("+site-1")
    assert crisis_resources("en", "CA", overrides=path).message.startswith("Call or text 988")
    assert "555-0100" in crisis_resources("en", "US", overrides=path).message
    # US was replaced whole, so its Spanish text falls back to the country default (en).
    assert crisis_resources("es", "US", overrides=path).locale == "en"
    assert crisis_resources("en", overrides=path).country == "GB"
    assert crisis_resources("es", overrides=path).country == "ES"
    assert crisis_resources("xx", overrides=path).country == "GB"


@pytest.mark.parametrize(
    "content",
    [
        "countries: [1, 2",  # not YAML
        "- just a list",
        "countries: {FR: {default_locale: fr, messages: {fr: {message: Appelez}}}}",
        "countries: {FR: {default_locale: de, messages: {fr: {message: a, safety_question: b}}}}",
        "default_country: FR",
        "locale_countries: {fr: FR}",
        "countries: {FR: {default_locale: fr, messages: {fr: {message: '', safety_question: b}}}}",
        "countries: 3",
    ],
)
def test_broken_override_fails_loudly_at_load(tmp_path: Path, content: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.yaml"):
        load_resource_table(path)
    # Sending resources never fails: the built-in table is used instead.
    res = crisis_resources("en", "US", overrides=path)
    assert "988" in res.message


def test_missing_override_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ValueError, match=r"nope\.yaml"):
        load_resource_table(missing)
    assert crisis_resources("es", overrides=missing).country == "ES"


def test_unreadable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match=r"binary\.yaml"):
        load_resource_table(path)
