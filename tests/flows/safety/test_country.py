from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flows.safety import countrynames
from flows.safety.country import (
    country_name,
    normalize_country,
    parse_country,
    patient_country,
    phone_country,
)


@pytest.mark.parametrize(
    ("stated", "address", "channel", "default", "want"),
    [
        ("MX", "+12125550123", "sms", "US", "MX"),  # stated country wins over the phone
        ("ar", None, "telegram", "US", "AR"),
        (None, "+12125550123", "sms", "GB", "US"),
        (None, "+14165550123", "sms", "US", "CA"),  # +1 is the US and Canada
        (None, "+525512345678", "sms", "US", "MX"),
        (None, "+5491123456789", "sms", "US", "AR"),
        (None, "+447700900123", "sms", "US", "GB"),
        (None, "+919876543210", "sms", "US", "IN"),
        (None, "+81312345678", "sms", "US", "JP"),
        (None, "123456789", "telegram", "MX", "MX"),  # no phone: the default
        (None, "123456789", "telegram", "es", "ES"),
        (None, "web-abc", "try", "US", "US"),
        ("ZZ", None, "telegram", "CO", "CO"),  # a bad stored value is ignored
        (None, "+99912", "sms", "NZ", "NZ"),  # not a phone number
        (None, None, "telegram", "ZZ", "US"),  # a bad default still gives a country
    ],
)
def test_patient_country_rule(
    stated: str | None, address: str | None, channel: str, default: str, want: str
) -> None:
    assert patient_country(stated, address, channel, default) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("MX", "MX"), ("mx", "MX"), ("México", "MX"), ("mexico", "MX"), ("Mexico.", "MX"),
        ("Estados Unidos", "US"), ("EEUU", "US"), ("USA", "US"), ("United States", "US"),
        ("UK", "GB"), ("Reino Unido", "GB"), ("England", "GB"), ("España", "ES"),
        ("spain", "ES"), ("Perú", "PE"), ("Nueva Zelanda", "NZ"), ("Alemania", "DE"),
        ("I'm in Argentina", "AR"), ("estoy en Colombia", "CO"), ("la India", "IN"),
        ("Narnia", None), ("", None), ("no", None), ("si", None), ("yes", None),
        ("x" * 200, None),
    ],
)  # fmt: skip
def test_parse_country(text: str, want: str | None) -> None:
    assert parse_country(text) == want


def test_helpers() -> None:
    assert normalize_country(" uk ") == "GB"
    assert normalize_country("XX") is None
    assert normalize_country(None) is None
    assert phone_country("+447700900123") == "GB"
    assert phone_country("447700900123") is None
    assert country_name("MX", "es") == "México"
    assert country_name("US", "es") == "Estados Unidos"
    assert country_name("DE", "en") == "Germany"


def test_shipped_country_names_match_phonenumbers() -> None:
    # countries.json comes from phonenumbers' locale table: an upgrade must regenerate it.
    assert countrynames.NAMES_FILE.read_text(encoding="utf-8") == countrynames.render(
        countrynames.generate()
    ), "stale flows/safety/countries.json: run `.venv/bin/python -m flows.safety.countrynames`"


def test_names_cover_every_content_locale() -> None:
    content = Path(countrynames.__file__).parents[1] / "content"
    assert {p.name for p in content.iterdir() if p.is_dir()} <= set(countrynames.LANGUAGES)


def test_the_bot_does_not_load_phonenumbers_geodata() -> None:
    # The geocoding tables cost ~100 MB per process; only the generator may import them.
    code = "import sys, bot.app, bot.cli; print('phonenumbers.geodata' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
