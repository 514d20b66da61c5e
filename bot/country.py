"""Where a patient is, for the crisis lines: stated country, else phone country, else the default.

Crisis code calls `resources_for(turn)`; onboarding reads `patient.needs_country` (no stated
country and no phone number to tell it) and `patient.country_name` from `country_facts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.actions import Turn
from bot.channels.trychat import DEMO_CHANNELS
from flows.safety.country import country_name, patient_country, phone_country
from flows.safety.resources import CrisisResources, crisis_resources


async def country_of(turn: Turn) -> str:
    """The patient's country code by the rule in `flows.safety.country.patient_country`."""
    identity = await turn.identity()
    address = identity.address if identity is not None else None
    channel = identity.channel if identity is not None else (turn.channel or "")
    default = turn.pipeline.settings.default_country
    return patient_country(turn.patient.country, address, channel, default)


async def resources_for(turn: Turn, overrides: Path | None = None) -> CrisisResources:
    """Crisis resources for where the patient is, in their own language; never raises.

    `overrides` defaults to TANDEM_CRISIS_RESOURCES_FILE.
    """
    if overrides is None:
        overrides = turn.pipeline.settings.crisis_resources_file
    return crisis_resources(turn.patient.locale, await country_of(turn), overrides)


async def country_facts(turn: Turn) -> dict[str, Any]:
    """Fact provider: `patient.needs_country` and `patient.country_name` (in their language)."""
    identity = await turn.identity()
    # Asked of anyone on a real channel with no phone number to tell it (Telegram); the try-it
    # web chat is a demo, not where patients are.
    asked = identity is not None and identity.channel not in DEMO_CHANNELS
    has_phone = identity is not None and phone_country(identity.address) is not None
    code = await country_of(turn)
    return {
        "needs_country": turn.patient.country is None and asked and not has_phone,
        "country_name": country_name(code, turn.patient.locale),
    }
