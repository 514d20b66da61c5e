"""Crisis resources by country and locale, from package YAML plus an optional deployment file.

The country comes from where the patient is (flows.safety.country.patient_country), never from
their language; the language of the text is the patient's locale where the table has it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from flows.safety.country import country_name, normalize_country

BUILTIN_PATH = Path(__file__).parent / "resources.yaml"
FALLBACK_COUNTRY = "US"
_TEXT_KEYS = ("intro", "emergency", "emergency_unknown", "no_line", "safety_question")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrisisResources:
    country: str  # where the patient is (ISO alpha-2)
    locale: str  # the language the texts are in
    message: str  # the full text: intro, help lines, emergency sentence
    lines: str  # the help lines only (or, unlisted, the sentence saying there are none)
    emergency: str  # e.g. "911"; "" when not known
    emergency_text: str  # "If you are in immediate danger, call 911 now."
    safety_question: str
    listed: bool  # False: no line is listed for the country


@dataclass(frozen=True)
class _Country:
    default_locale: str
    emergency: str
    lines: Mapping[str, str]
    messages: Mapping[str, str]  # optional full-message overrides by language


@dataclass(frozen=True)
class ResourceTable:
    version: str
    default_country: str
    texts: Mapping[str, Mapping[str, str]]
    countries: Mapping[str, _Country]
    emergency_numbers: Mapping[str, str]
    served_by: Mapping[str, str]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read crisis resources file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"crisis resources file {path}: top level must be a mapping")
    return data


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str | int) or not str(value).strip():
        raise ValueError(f"{where}: must be non-empty text")
    return " ".join(str(value).split())


def _mapping(data: dict[str, Any], key: str, where: str) -> dict[Any, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"{where}: {key} must be a mapping")
    return value


def _code(raw: Any, where: str) -> str:
    code = normalize_country(str(raw))
    if code is None:
        raise ValueError(f"{where}: {raw!r} is not an ISO 3166 alpha-2 country code")
    return code


def _language(locale: str) -> str:
    return locale.replace("-", "_").split("_")[0].strip().lower()


def _country(code: str, raw: Any, where: str) -> _Country:
    where = f"{where} country {code}"
    if not isinstance(raw, dict) or not isinstance(raw.get("lines"), dict) or not raw["lines"]:
        raise ValueError(f"{where}: needs a lines mapping (language: text)")
    lines = {_language(str(k)): _text(v, f"{where} lines {k}") for k, v in raw["lines"].items()}
    messages = {
        _language(str(k)): _text(v, f"{where} messages {k}")
        for k, v in _mapping(raw, "messages", where).items()
    }
    default_locale = _language(str(raw.get("default_locale", "")))
    if default_locale not in lines:
        raise ValueError(f"{where}: default_locale must be one of its lines' languages")
    emergency = _text(raw.get("emergency"), f"{where} emergency")
    return _Country(default_locale, emergency, lines, messages)


def _texts(raw: dict[Any, Any], where: str) -> dict[str, dict[str, str]]:
    texts: dict[str, dict[str, str]] = {}
    for locale, values in raw.items():
        if not isinstance(values, dict):
            raise ValueError(f"{where} texts {locale}: must be a mapping")
        texts[_language(str(locale))] = {
            k: _text(v, f"{where} texts {locale} {k}") for k, v in values.items()
        }
    return texts


def _build(data: dict[str, Any], base: ResourceTable | None, where: str) -> ResourceTable:
    if base is None and not isinstance(data.get("countries"), dict):
        raise ValueError(f"{where}: countries must be a mapping")
    texts = {k: dict(v) for k, v in base.texts.items()} if base else {}
    for locale, values in _texts(_mapping(data, "texts", where), where).items():
        texts.setdefault(locale, {}).update(values)
    for locale, values in texts.items():
        missing = [k for k in _TEXT_KEYS if k not in values]
        if missing:
            raise ValueError(f"{where}: texts {locale} lacks {', '.join(missing)}")
    countries = dict(base.countries) if base else {}
    for raw_code, raw in _mapping(data, "countries", where).items():
        code = _code(raw_code, where)
        countries[code] = _country(code, raw, where)
    for code, entry in countries.items():
        for locale in (*entry.lines, *entry.messages):
            if locale not in texts:
                raise ValueError(f"{where}: country {code} uses language {locale!r} with no texts")
    emergency = dict(base.emergency_numbers) if base else {}
    for raw_code, number in _mapping(data, "emergency_numbers", where).items():
        emergency[_code(raw_code, where)] = _text(number, f"{where} emergency_numbers {raw_code}")
    served = dict(base.served_by) if base else {}
    for raw_code, target in _mapping(data, "served_by", where).items():
        served[_code(raw_code, where)] = _code(target, where)
    default_raw = data.get("default_country", base.default_country if base else "")
    default = _code(default_raw, f"{where} default_country")
    for code in (default, *served.values()):
        if code not in countries:
            raise ValueError(f"{where}: country {code!r} is referenced but not defined")
    version = str(data.get("version", base.version if base else "unversioned"))
    if base:
        version = f"{base.version}+{version}"
    return ResourceTable(version, default, texts, countries, emergency, served)


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


def _table(overrides: Path | None) -> ResourceTable:
    # The built-in table is read once, at start-up (`flows.safety.preload`), not at import.
    if overrides is None:
        return _cached_table(None)
    try:
        return _cached_table(Path(overrides))
    except (ValueError, TypeError):
        # Resources must still go out; the broken file should have failed start-up already.
        log.error("crisis resources override unusable, using built-in table: %s", overrides)
        return _cached_table(None)


def _pick_language(wanted: str, available: Mapping[str, str], fallback: str) -> str:
    return wanted if wanted in available else fallback


def crisis_resources(
    locale: str, country: str | None = None, overrides: Path | None = None
) -> CrisisResources:
    """Crisis texts for a patient in ``country`` who reads ``locale``; never raises.

    ``country`` is where the patient is (see ``flows.safety.country.patient_country``); None or
    an unknown code means the table's default country. A country with no listed line gets a plain
    "no line listed" text and its emergency number if known, never another country's line.
    The language is ``locale``'s where the table has it, else the country's default language.
    """
    table = _table(overrides)
    language = _language(locale) if isinstance(locale, str) else ""
    code = normalize_country(country) or table.default_country
    entry = table.countries.get(table.served_by.get(code, code))
    if entry is None:
        used = language if language in table.texts else "en"
        if used not in table.texts:
            used = next(iter(table.texts))
        texts = table.texts[used]
        number = table.emergency_numbers.get(code, "")
        lines = texts["no_line"].replace("{country}", country_name(code, used))
        listed = False
    else:
        used = _pick_language(language, entry.lines, entry.default_locale)
        texts = table.texts[used]
        number, lines, listed = entry.emergency, entry.lines[used], True
    if number:
        emergency_text = texts["emergency"].replace("{emergency}", number)
    else:
        emergency_text = texts["emergency_unknown"]
    parts = (texts["intro"], lines) if listed else (lines,)
    message = " ".join((*parts, emergency_text))
    if entry is not None and used in entry.messages:
        message = entry.messages[used]
    return CrisisResources(
        country=code,
        locale=used,
        message=message,
        lines=lines,
        emergency=number,
        emergency_text=emergency_text,
        safety_question=texts["safety_question"],
        listed=listed,
    )
