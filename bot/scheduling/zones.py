"""Which time zone an SMS patient is in: a guess from the phone number's country, and the short
choice (zones.yaml) offered in onboarding when the country spans several zones.

A number's area code is no proof of where its owner lives (numbers move with people), so for a
multi-zone country the guess is always confirmed with the patient.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import phonenumbers
import yaml

from bot.scheduling.timecalc import default_timezone, guess_timezones, validate_timezone

if TYPE_CHECKING:
    from bot.actions import Turn

DATA = Path(__file__).with_name("zones.yaml")


@dataclass(frozen=True)
class ZoneChoice:
    zone: str
    labels: dict[str, str]  # locale -> label
    words: tuple[str, ...]


@functools.cache
def choices() -> dict[str, tuple[ZoneChoice, ...]]:
    """Region code -> the zones offered to its patients (the first is the default guess)."""
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8")) or {}
    table: dict[str, tuple[ZoneChoice, ...]] = {}
    for region, entries in raw.items():
        table[str(region)] = tuple(
            ZoneChoice(
                validate_timezone(str(e["zone"])),
                {str(k): str(v) for k, v in e["label"].items()},
                tuple(str(w) for w in e.get("words") or ()),
            )
            for e in entries
        )
    return table


def region_of(e164: str) -> str | None:
    """ISO region of a valid E.164 number, else None."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.region_code_for_number(number)


def options(e164: str, locale: str) -> list[dict[str, Any]]:
    """The zones to offer for this number, as `{value, label, words}`; [] for one-zone countries."""
    offered = choices().get(region_of(e164) or "", ())
    if len(offered) < 2:
        return []
    return [
        {"value": c.zone, "label": c.labels.get(locale) or c.labels["en"], "words": list(c.words)}
        for c in offered
    ]


def _same_clock(zones: list[str], now: datetime) -> bool:
    """True when every zone shows the same local time throughout the coming year."""
    instants = [now + timedelta(days=15 * k) for k in range(25)]
    offsets = {tuple(at.astimezone(ZoneInfo(z)).utcoffset() for at in instants) for z in zones}
    return len(offsets) == 1


def guess(e164: str, fallback: str, now: datetime) -> tuple[str, bool]:
    """A new SMS patient's zone from their number: `(zone, confirmed)`.

    Multi-zone countries of zones.yaml: the number's own zone when it is one of the choices,
    else the country's first, never confirmed. Elsewhere phonenumbers decides; several zones that
    keep the same clock (London, Jersey, Guernsey) count as one.
    """
    offered = choices().get(region_of(e164) or "", ())
    if len(offered) >= 2:
        candidates = guess_timezones(e164)
        values = [c.zone for c in offered]
        zone = next((z for z in candidates if z in values), values[0])
        return zone, False
    zone, needs_confirmation = default_timezone(e164, fallback)
    if needs_confirmation:
        candidates = guess_timezones(e164)
        if candidates and _same_clock(candidates, now):
            return zone, True
    return zone, not needs_confirmation


async def timezone_facts(turn: Turn) -> dict[str, Any]:
    """Fact provider: `patient.timezone_confirmed`, and `patient.timezone_options` (the choice
    to offer) while an SMS patient of a multi-zone country has not confirmed their zone."""
    patient = turn.patient
    facts: dict[str, Any] = {
        "timezone_confirmed": patient.timezone_confirmed,
        "timezone_options": [],
    }
    if patient.timezone_confirmed is not False:
        return facts
    identity = await turn.identity()
    if identity is not None and identity.address.startswith("+"):
        facts["timezone_options"] = options(identity.address, patient.locale)
    return facts
