"""Crisis resources by country and locale, from package YAML plus an optional deployment file."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

BUILTIN_PATH = Path(__file__).parent / "resources.yaml"
FALLBACK_COUNTRY = "US"
# Common spellings people and settings use for the same table keys.
_COUNTRY_ALIASES = {"UK": "GB", "USA": "US", "ESP": "ES"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrisisResources:
    country: str
    locale: str
    message: str
    safety_question: str


@dataclass(frozen=True)
class _Country:
    default_locale: str
    messages: Mapping[str, tuple[str, str]]


@dataclass(frozen=True)
class ResourceTable:
    version: str
    default_country: str
    locale_countries: Mapping[str, str]
    countries: Mapping[str, _Country]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read crisis resources file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"crisis resources file {path}: top level must be a mapping")
    return data


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: must be non-empty text")
    return " ".join(value.split())


def _country(code: str, raw: Any, where: str) -> _Country:
    where = f"{where} country {code}"
    if not isinstance(raw, dict) or not isinstance(raw.get("messages"), dict):
        raise ValueError(f"{where}: needs a messages mapping")
    messages: dict[str, tuple[str, str]] = {}
    for locale, texts in raw["messages"].items():
        if not isinstance(texts, dict):
            raise ValueError(f"{where} locale {locale}: needs message and safety_question")
        messages[_language(str(locale))] = (
            _text(texts.get("message"), f"{where} {locale} message"),
            _text(texts.get("safety_question"), f"{where} {locale} safety_question"),
        )
    default_locale = _language(str(raw.get("default_locale", "")))
    if default_locale not in messages:
        raise ValueError(f"{where}: default_locale must be one of its message locales")
    return _Country(default_locale, messages)


def _language(locale: str) -> str:
    return locale.replace("-", "_").split("_")[0].strip().lower()


def _region(locale: str) -> str:
    parts = locale.replace("-", "_").split("_")
    return _country_code(parts[1]) if len(parts) > 1 else ""


def _country_code(country: str) -> str:
    code = country.strip().upper()
    return _COUNTRY_ALIASES.get(code, code)


def _build(data: dict[str, Any], base: ResourceTable | None, where: str) -> ResourceTable:
    countries: dict[str, _Country] = dict(base.countries) if base else {}
    raw_countries = data.get("countries", {} if base else None)
    if not isinstance(raw_countries, dict):
        raise ValueError(f"{where}: countries must be a mapping")
    for code, raw in raw_countries.items():
        countries[_country_code(str(code))] = _country(str(code), raw, where)
    locale_countries = dict(base.locale_countries) if base else {}
    raw_locales = data.get("locale_countries", {})
    if not isinstance(raw_locales, dict):
        raise ValueError(f"{where}: locale_countries must be a mapping")
    for locale, code in raw_locales.items():
        locale_countries[_language(str(locale))] = _country_code(str(code))
    default = _country_code(str(data.get("default_country", base.default_country if base else "")))
    for code in (default, *locale_countries.values()):
        if code not in countries:
            raise ValueError(f"{where}: country {code!r} is referenced but not defined")
    version = str(data.get("version", base.version if base else "unversioned"))
    if base:
        version = f"{base.version}+{version}"
    return ResourceTable(version, default, locale_countries, countries)


def load_resource_table(path: Path | None = None) -> ResourceTable:
    """Load the built-in table, merged with the deployment file at ``path`` if given.

    Raises ValueError with the file and the problem if either file is missing or malformed,
    so a deployment calls this at start-up and fails loudly.
    """
    builtin = _build(_read(BUILTIN_PATH), None, str(BUILTIN_PATH))
    if path is None:
        return builtin
    return _build(_read(Path(path)), builtin, str(path))


@lru_cache(maxsize=8)
def _cached_table(path: Path | None) -> ResourceTable:
    return load_resource_table(path)


_BUILTIN = _cached_table(None)


def _table(overrides: Path | None) -> ResourceTable:
    if overrides is None:
        return _BUILTIN
    try:
        return _cached_table(Path(overrides))
    except (ValueError, TypeError):
        # Resources must still go out; the broken file should have failed start-up already.
        log.error("crisis resources override unusable, using built-in table: %s", overrides)
        return _BUILTIN


def crisis_resources(
    locale: str, country: str | None = None, overrides: Path | None = None
) -> CrisisResources:
    """Crisis message and safety question for ``country`` in ``locale``; never raises.

    Country: the given one if in the table, else the locale's region ("en-GB") if in the table,
    else the one for the locale's language (es: ES, en: US), else the table default (US).
    Locale: the requested language if the country has it, else the country's default.
    """
    table = _table(overrides)
    language = _language(locale) if isinstance(locale, str) else ""
    code = _country_code(country) if isinstance(country, str) else ""
    if code not in table.countries and isinstance(locale, str):
        # A regional locale such as "en-GB" or "es-US" names the country outright.
        code = _region(locale)
    if code not in table.countries:
        code = table.locale_countries.get(language, table.default_country)
    if code not in table.countries:
        code = table.default_country
    entry = table.countries[code]
    used = language if language in entry.messages else entry.default_locale
    message, question = entry.messages[used]
    return CrisisResources(country=code, locale=used, message=message, safety_question=question)
