"""The time-zone choices data file and the guess from a phone number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.scheduling import zones
from flows.answers import fold

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_every_choice_is_a_real_zone_with_short_labels_in_every_locale() -> None:
    table = zones.choices()
    assert {"US", "CA", "MX", "BR", "AU", "RU", "ES"} <= set(table)
    for region, offered in table.items():
        assert len(offered) >= 2, region
        assert len({c.zone for c in offered}) == len(offered), region
        for choice in offered:
            assert set(choice.labels) == {"en", "es"}, (region, choice.zone)
            assert all(0 < len(label) <= 40 for label in choice.labels.values())
        # A typed word must point at one choice only.
        words = [fold(w) for c in offered for w in c.words]
        assert len(words) == len(set(words)), region


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+12125550123", ("America/New_York", False)),  # numbers move: always confirmed
        ("+14155550123", ("America/Los_Angeles", False)),  # the number's zone is the guess
        ("+19075550123", ("America/Anchorage", False)),
        ("+18005551234", ("America/New_York", False)),  # toll free: the country's first
        ("+34612345678", ("Europe/Madrid", False)),
        ("+34922123456", ("Atlantic/Canary", False)),
        ("+525512345678", ("America/Mexico_City", False)),
        ("+447400123456", ("Europe/London", True)),  # London, Jersey, ...: one clock
        ("+4915112345678", ("Europe/Berlin", True)),
        ("+15555555555", ("Europe/Paris", False)),  # invalid: the fallback, unconfirmed
    ],
)
def test_guess(number: str, expected: tuple[str, bool]) -> None:
    assert zones.guess(number, "Europe/Paris", NOW) == expected


def test_options_are_localized_and_empty_for_one_zone_countries() -> None:
    spanish = zones.options("+34612345678", "es")
    assert [o["label"] for o in spanish] == ["Península y Baleares", "Canarias"]
    assert [o["value"] for o in spanish] == ["Europe/Madrid", "Atlantic/Canary"]
    us = zones.options("+12125550123", "en")
    assert [o["label"] for o in us][:5] == ["Eastern", "Central", "Mountain", "Arizona", "Pacific"]
    assert zones.options("+12125550123", "fr")[0]["label"] == "Eastern"  # English fallback
    assert zones.options("+447400123456", "en") == []
    assert zones.options("not a number", "en") == []
