"""Language, country and Spanish help keywords: the chain link at Stage.KEYWORDS.

ENGLISH / INGLES and ESPAÑOL / ESPANOL / SPANISH switch `patients.locale` and confirm in the new
language; LANGUAGE / IDIOMA explain how, in both. AYUDA answers like HELP, always from Tandem:
Twilio's Advanced Opt-Out only answers its own English keywords. COUNTRY / PAÍS with a code or a
name ("PAIS México", "COUNTRY mx") sets `patients.country`, which picks the crisis lines; alone,
it says which country is in use; with something that names no country it says so, but only when
the keyword is in capitals ("country music" may answer a flow). Runs after opt-out. A brand-new
patient whose first message is one of these gets the reply and then onboarding, in the new language.
"""

from __future__ import annotations

import re

from sqlalchemy import exists, select

from bot.actions import Turn
from bot.chain import Result
from bot.country import country_of, resources_for
from bot.optout import help_text, keyword, send_reply
from bot.settings import Settings
from flows.answers import fold
from flows.safety.country import country_name, parse_country
from flows.texts import text
from storage.models import FlowRun, Message

LANGUAGE_WORDS = {
    "ENGLISH": "en",
    "INGLES": "en",
    "INGLÉS": "en",
    "ESPAÑOL": "es",
    "ESPANOL": "es",
    "SPANISH": "es",
    "CASTELLANO": "es",
}
HOW_TO_SWITCH = frozenset({"LANGUAGE", "IDIOMA", "LANG"})
HELP_WORDS_ES = frozenset({"AYUDA"})
_COUNTRY = re.compile(r"^(?:country|pais)(?:\s*[:=-]?\s*(?P<value>.+))?$")


def _text(locale: str, key: str, **values: str) -> str:
    return text(f"keywords.{key}", locale, **values)


class KeywordInterceptor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __call__(self, turn: Turn, message: Message) -> Result:
        word, _ = keyword(message.body)
        patient = turn.patient
        if word in LANGUAGE_WORDS:
            previous, patient.locale = patient.locale, LANGUAGE_WORDS[word]
            await turn.log("locale_changed", {"from": previous, "to": patient.locale})
            await send_reply(turn, _text(patient.locale, "language_set"), "keyword.language_set")
            return Result.HANDLED if await _started(turn) else Result.CONTINUE
        if word in HOW_TO_SWITCH:
            await send_reply(turn, _text(patient.locale, "language_help"), "keyword.language_help")
            return Result.HANDLED
        if word in HELP_WORDS_ES:
            emergency = (await resources_for(turn)).emergency
            await send_reply(
                turn, help_text(self.settings, patient.locale, emergency), "keyword.help"
            )
            return Result.HANDLED
        match = _COUNTRY.match(fold(message.body)) if len(message.body) <= 100 else None
        if match is None:
            return Result.CONTINUE
        value = match.group("value")
        if not value:
            name = country_name(await country_of(turn), patient.locale)
            await send_reply(
                turn, _text(patient.locale, "country_show", name=name), "keyword.country"
            )
            return Result.HANDLED
        code = parse_country(value)
        if code is None:
            if not message.body.lstrip().startswith(("COUNTRY", "PAIS", "PAÍS")):
                return Result.CONTINUE  # "country music" is an answer to a flow, not a keyword
            name = country_name(await country_of(turn), patient.locale)
            reply = _text(patient.locale, "country_unknown", name=name)
            await turn.log("country_not_understood", {})
            await send_reply(turn, reply, "keyword.country_unknown")
            return Result.HANDLED
        await turn.log("country_changed", {"from": patient.country, "to": code})
        patient.country = code
        name = country_name(code, patient.locale)
        await send_reply(turn, _text(patient.locale, "country_set", name=name), "keyword.country")
        return Result.HANDLED if await _started(turn) else Result.CONTINUE


async def _started(turn: Turn) -> bool:
    """False for a brand-new patient, so onboarding starts now (in the language just chosen)."""
    started = exists().where(FlowRun.patient_id == turn.patient.id)
    return bool(await turn.session.scalar(select(started)))
