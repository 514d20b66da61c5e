"""Where a patient is: the country that picks their crisis lines (never their language).

Pure (phonenumbers' bundled metadata only), so both the bot and the flows can use it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache

import phonenumbers

from flows.safety.countrynames import NAMES_FILE

FALLBACK_COUNTRY = "US"
# Names people write that are not the ISO code or the English/Spanish name phonenumbers knows.
_ALIASES = {
    "uk": "GB", "britain": "GB", "great britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "inglaterra": "GB", "escocia": "GB",
    "gales": "GB", "gran bretana": "GB", "usa": "US", "america": "US",
    "united states of america": "US", "the united states": "US", "the us": "US", "the usa": "US",
    "eeuu": "US", "ee uu": "US", "estados unidos de america": "US", "the uk": "GB",
    "holland": "NL", "the netherlands": "NL", "holanda": "NL",
}  # fmt: skip
_NOT_CODES = frozenset({"no", "si"})


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", plain).split())


def known_countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes of the countries and territories phonenumbers knows."""
    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def normalize_country(code: object) -> str | None:
    """The upper-case ISO alpha-2 code, or None when `code` is not a known country."""
    if not isinstance(code, str):
        return None
    upper = code.strip().upper()
    if upper == "UK":
        upper = "GB"
    return upper if upper in phonenumbers.SUPPORTED_REGIONS else None


@lru_cache(maxsize=1)
def _country_names() -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    return names


def country_name(code: str, locale: str) -> str:
    """The country's name in `locale`'s language (English when unknown), else the code."""
    names = _country_names().get(code, {})
    language = locale.replace("-", "_").split("_")[0].lower()
    for lang in (language, "en"):
        if name := names.get(lang, ""):
            return name
    return code


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    table: dict[str, str] = {}
    for code in phonenumbers.SUPPORTED_REGIONS:
        for locale in ("en", "es"):
            name = _fold(country_name(code, locale))
            if name and name != code.lower():
                table.setdefault(name, code)
    table.update(_ALIASES)
    return table


def parse_country(text: str) -> str | None:
    """A country from what a patient typed: an ISO code ("MX") or an English or Spanish name
    ("Mexico", "México", "Estados Unidos"); None when it names none or is unclear."""
    if not isinstance(text, str) or len(text) > 80:
        return None
    folded = _fold(text)
    folded = re.sub(r"^(?:i m in|i am in|im in|in|estoy en|en|vivo en|i live in)\s+", "", folded)
    if not folded:
        return None
    if len(folded) == 2 and folded.isalpha():
        # "no" and "si" are answers, not Norway and Slovenia (their names still work).
        return None if folded in _NOT_CODES else normalize_country(folded)
    names = _names()
    if folded in names:
        return names[folded]
    without_article = re.sub(r"^(?:the|el|la|los|las)\s+", "", folded)
    return names.get(without_article)


def phone_country(address: str | None) -> str | None:
    """The country of an E.164 phone number (+1 416... is CA, +1 212... US), else None."""
    if not address or not address.startswith("+"):
        return None
    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(number)
    if not region or region == phonenumbers.UNKNOWN_REGION:
        # A number outside every known range still tells its calling code's main country.
        region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return normalize_country(region)


def patient_country(
    patient_country_field: str | None, address: str | None, channel: str, default: str
) -> str:
    """The country whose crisis lines a patient gets: their stated country if set, else their
    phone number's country (SMS), else the deployment default. Never from their language."""
    stated = normalize_country(patient_country_field)
    if stated:
        return stated
    if channel == "sms" or (address or "").startswith("+"):
        from_phone = phone_country(address)
        if from_phone:
            return from_phone
    return normalize_country(default) or FALLBACK_COUNTRY
