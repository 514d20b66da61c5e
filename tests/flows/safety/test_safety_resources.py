from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from flows.safety.resources import BUILTIN_PATH, crisis_resources, load_resource_table

# Every number and keyword CLINICAL.md lists, per country, and the emergency number.
REQUIRED = {
    "US": (["988", "988lifeline.org", "741741"], "911"),
    "GB": (["Samaritans", "116 123", "SHOUT", "85258"], "999"),
    "ES": (["024"], "112"),
    "CA": (["988"], "911"),
    "AU": (["13 11 14", "0477 13 11 14"], "000"),
    "NZ": (["1737", "0800 543 354"], "111"),
    "IE": (["116 123", "50808"], "112"),
    "MX": (["800 911 2000"], "911"),
    "AR": (["135", "5275-1135"], "911"),
    "CO": (["106", "192"], "123"),
    "CL": (["*4141"], "131"),
    "PE": (["113"], "106"),
    "IN": (["14416"], "112"),
    "DE": (["0800 111 0 111", "0800 111 0 222"], "112"),
    "FR": (["3114"], "112"),
}
# Safe messaging: no method words in a crisis message.
FORBIDDEN = ["pill", "overdose", "hang", "cut", "gun", "knife", "pastilla", "cuchillo"]


@pytest.mark.parametrize("country", sorted(REQUIRED))
@pytest.mark.parametrize("locale", ["en", "es"])
def test_every_country_has_its_lines_in_both_languages(country: str, locale: str) -> None:
    res = crisis_resources(locale, country)
    lines, emergency = REQUIRED[country]
    assert (res.country, res.locale, res.listed) == (country, locale, True)
    for item in lines:
        assert item in res.lines and item in res.message
    assert res.emergency == emergency
    assert emergency in res.emergency_text and res.emergency_text in res.message
    assert res.lines in res.message
    lowered = res.message.lower()
    assert not [w for w in FORBIDDEN if w in lowered]
    assert len(res.message) <= 320  # two SMS segments at most
    assert "\n" not in res.message


def test_every_line_cites_its_source() -> None:
    text = BUILTIN_PATH.read_text(encoding="utf-8")
    table = yaml.safe_load(text)
    blocks = re.split(r"\n  (?=[A-Z]{2}:)", text.split("\ncountries:")[1])
    for code in table["countries"]:
        block = next(b for b in blocks if b.startswith(f"{code}:"))
        assert "# " in block and "https://" in block, code


def test_emergency_sentence_in_each_language() -> None:
    assert crisis_resources("en", "US").emergency_text == (
        "If you are in immediate danger, call 911 now."
    )
    assert crisis_resources("es", "MX").emergency_text == (
        "Si está en peligro inmediato, llame al 911 ahora."
    )


@pytest.mark.parametrize(
    ("locale", "question"),
    [("en", "Are you safe right now? Reply YES or NO."), ("es", "¿Está a salvo ahora mismo?")],
)
def test_safety_question_in_locale(locale: str, question: str) -> None:
    assert crisis_resources(locale, "US").safety_question.startswith(question)


@pytest.mark.parametrize(
    ("locale", "country", "want_country", "want_locale"),
    [
        # The language never picks the country: no country is the table default (US).
        ("en", None, "US", "en"),
        ("es", None, "US", "es"),
        ("es-MX", None, "US", "es"),
        ("es", "US", "US", "es"),
        ("en", "ES", "ES", "en"),
        ("en", "uk", "GB", "en"),
        ("es", "mx", "MX", "es"),
        ("en", "AR", "AR", "en"),
        ("fr", "ES", "ES", "es"),  # no French: the country's own language
        ("fr", "DE", "DE", "en"),
        ("", "", "US", "en"),
        ("en", "ZZ", "US", "en"),  # not a country at all
        ("??", "  ", "US", "en"),
        ("en", "JE", "JE", "en"),  # served by the UK's lines
    ],
)
def test_fallbacks(locale: str, country: str | None, want_country: str, want_locale: str) -> None:
    res = crisis_resources(locale, country)
    assert (res.country, res.locale) == (want_country, want_locale)
    assert res.message and res.safety_question and res.lines and res.emergency


@pytest.mark.parametrize(
    ("locale", "country", "emergency", "name"),
    [("en", "JP", "", "Japan"), ("es", "AT", "112", "Austria"), ("es", "JP", "", "Japón")],
)
def test_unlisted_country_says_so_and_never_gives_another_countrys_line(
    locale: str, country: str, emergency: str, name: str
) -> None:
    res = crisis_resources(locale, country)
    assert (res.country, res.listed, res.emergency) == (country, False, emergency)
    assert name in res.lines
    assert ("don't have a crisis line" in res.lines) == (locale == "en")
    if emergency:
        assert f"call {emergency} now" in res.emergency_text or f"al {emergency}" in res.message
    else:
        assert "local emergency number" in res.message or "emergencias local" in res.message
    for other in REQUIRED.values():
        assert not [line for line in other[0] if line in res.message]
    assert "911" not in res.message


OVERRIDE = """
version: site-1
default_country: GB
texts:
  fr:
    intro: Vous comptez, et de l'aide existe.
    emergency: En cas de danger immédiat, appelez le {emergency}.
    emergency_unknown: En cas de danger immédiat, appelez les urgences.
    no_line: Pas de ligne pour votre pays ({country}).
    safety_question: Êtes-vous en sécurité ? OUI ou NON.
emergency_numbers: {JP: "110"}
countries:
  FR:
    default_locale: fr
    emergency: "112"
    lines: {fr: Appelez le 3114., en: Call 3114.}
  US:
    default_locale: en
    emergency: "911"
    lines: {en: Our clinic line is 555-0100. Call or text 988.}
"""


def test_override_file(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(OVERRIDE, encoding="utf-8")
    table = load_resource_table(path)
    assert {"US", "GB", "ES", "MX", "FR"} <= set(table.countries)
    assert table.version.endswith("+site-1")
    assert crisis_resources("fr", "FR", overrides=path).message.startswith("Vous comptez")
    assert "555-0100" in crisis_resources("en", "US", overrides=path).message
    # US was replaced whole, so its Spanish text falls back to the country default (en).
    assert crisis_resources("es", "US", overrides=path).locale == "en"
    assert crisis_resources("en", overrides=path).country == "GB"
    assert crisis_resources("en", "JP", overrides=path).emergency == "110"


@pytest.mark.parametrize(
    "content",
    [
        "countries: [1, 2",  # not YAML
        "- just a list",
        "countries: {FR: {default_locale: en, emergency: '112'}}",  # no lines
        "countries: {FR: {default_locale: de, emergency: '112', lines: {en: Call 3114.}}}",
        "countries: {FR: {default_locale: en, lines: {en: Call 3114.}}}",  # no emergency
        "countries: {FR: {default_locale: fr, emergency: '112', lines: {fr: Appelez}}}",  # no texts
        "countries: {XX: {default_locale: en, emergency: '1', lines: {en: a}}}",  # no such country
        "default_country: JP",  # not listed
        "served_by: {JE: JP}",
        "texts: {en: {intro: ''}}",
        "emergency_numbers: 3",
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
    assert crisis_resources("es", "MX", overrides=missing).country == "MX"


def test_unreadable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match=r"binary\.yaml"):
        load_resource_table(path)
