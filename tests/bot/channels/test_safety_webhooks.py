"""End to end through the real Twilio and Telegram webhooks against the fake providers: one
disclosure per category and level, in English and Spanish. Each must reach the patient's phone
as help lines first, then the safety check, and open the escalation a coach sees, with the
category and the words that raised it."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from storage.models import Escalation, Event
from tests.bot.channels.conftest import PUBLIC_URL, settle
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_updates import UpdateFactory
from tests.fakes.twilio import FakeTwilio, inbound_sms_params, signed_webhook_headers

# (category, level, language, message): written as patients text, not as the lexicon lists.
CASES = [
    ("passive_ideation", "concern", "en", "sometimes i wish i could just go to sleep and not wake up"),  # noqa: E501
    ("passive_ideation", "concern", "es", "a veces quisiera dormirme y no despertar nunca más"),
    ("active_ideation", "risk", "en", "i want to kill myself"),
    ("active_ideation", "risk", "es", "me quiero matar, ya no puedo más"),
    ("intent", "risk", "en", "i have decided, i am going to kill myself, i just need the nerve"),
    ("intent", "risk", "es", "ya lo decidí, me voy a matar"),
    ("method", "risk", "en", "i know exactly how i would do it, the rope is in the garage"),
    ("sexual_abuse", "risk", "en", "my uncle raped me last summer and i never told anyone"),
    ("sexual_abuse", "risk", "es", "un compañero de trabajo me violó y no sé qué hacer"),
    ("plan", "risk", "en", "i'm going to do it tonight after everyone is asleep, i have it all planned"),  # noqa: E501
    ("plan", "risk", "es", "ya tengo todo planeado, esta noche me quito la vida"),
    ("preparatory", "risk", "en", "i've been saving up my pills for weeks so i have enough to end it"),  # noqa: E501
    ("preparatory", "risk", "es", "estuve juntando pastillas para acabar con todo"),
    ("attempt", "risk", "en", "i took a whole bottle of pills an hour ago"),
    ("attempt", "risk", "es", "me tomé todas las pastillas del frasco hace un rato"),
    ("self_harm", "risk", "en", "i cut my wrists again last night"),
    ("self_harm", "risk", "es", "anoche me volví a cortar los brazos"),
    ("abuse_child", "risk", "en", "my stepdad touches me when mom is at work and says not to tell"),
    ("abuse_child", "risk", "es", "mi padrastro me toca cuando mi mamá no está y tengo 12 años"),
    ("abuse_adult", "risk", "en", "my husband hits me when he drinks and i'm scared to go home"),
    ("abuse_adult", "risk", "es", "mi esposo me pega cuando toma y tengo miedo de volver a casa"),
    ("violence", "risk", "en", "i'm going to hurt him, i'm bringing a knife to school tomorrow"),
    ("violence", "risk", "es", "voy a matar a mi jefe mañana, ya tengo el arma"),
    ("eating_disorder", "concern", "en", "i haven't eaten in four days and i make myself throw up when i do"),  # noqa: E501
    ("eating_disorder", "concern", "es", "llevo días sin comer y cuando como me provoco el vómito"),
    ("hopelessness", "concern", "en", "everyone would be better off without me, i'm just a burden"),
    ("hopelessness", "concern", "es", "soy una carga para mi familia, estarían mejor sin mí"),
]  # fmt: skip
TG_SECRET = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}


async def _text_in(
    tandem: Tandem, channel: str, body: str, twilio: FakeTwilio, telegram: FakeTelegram
) -> list[str]:
    """Post `body` as a patient's message on `channel`; what reached the patient's phone."""
    async with TestClient(TestServer(create_app(tandem))) as client:
        if channel == "sms":
            params = inbound_sms_params("+15551230001", body)
            path = "/webhooks/twilio/sms"
            headers = signed_webhook_headers(PUBLIC_URL + path, params)
            resp = await client.post(path, data=urlencode(params), headers=headers)
        else:
            update = UpdateFactory().text_message(4242, body)
            resp = await client.post(
                "/webhooks/telegram",
                data=json.dumps(update).encode(),
                headers={"Content-Type": "application/json", **TG_SECRET},
            )
        assert resp.status == 200
        await settle(tandem)
    if channel == "sms":
        return [m["body"] for m in twilio.messages]
    return [m["text"] for m in telegram.sent]


async def _escalation(tandem: Tandem) -> Escalation:
    async with tandem.db.session() as session:
        (esc,) = (await session.execute(select(Escalation))).scalars()
        return esc


async def _detected(tandem: Tandem) -> list[str]:
    async with tandem.db.session() as session:
        rows = await session.execute(select(Event.data).where(Event.kind == "risk_detected"))
        return [c for data in rows.scalars() for c in data.get("categories", [])]


@pytest.mark.parametrize(
    ("category", "level", "language", "body"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES]
)
@pytest.mark.parametrize("channel", ["sms", "telegram"])
async def test_disclosure_reaches_the_phone_and_the_coach(
    channel: str,
    category: str,
    level: str,
    language: str,
    body: str,
    make_settings: Callable[..., Settings],
    clock: FakeClock,
    fake_twilio: FakeTwilio,
    fake_telegram: FakeTelegram,
) -> None:
    tandem = Tandem(make_settings(default_locale=language), clock=clock)
    try:
        received = await _text_in(tandem, channel, body, fake_twilio, fake_telegram)
        assert "988" in received[0], received  # a US number / the default country: 988
        question = "Are you safe right now?" if language == "en" else "¿Está a salvo ahora mismo?"
        assert question in received[1]
        esc = await _escalation(tandem)
        assert (esc.reason, esc.priority) == ("risk", "urgent" if level == "risk" else "high")
        assert category in esc.detail and category in await _detected(tandem)
    finally:
        await tandem.close()


@pytest.mark.parametrize(
    ("language", "body"),
    [
        ("en", "can i talk to a real person please"),
        ("es", "quiero hablar con una persona de verdad"),
    ],
)
@pytest.mark.parametrize("channel", ["sms", "telegram"])
async def test_asking_for_a_person_opens_a_normal_escalation_and_says_so_honestly(
    channel: str,
    language: str,
    body: str,
    make_settings: Callable[..., Settings],
    clock: FakeClock,
    fake_twilio: FakeTwilio,
    fake_telegram: FakeTelegram,
) -> None:
    tandem = Tandem(make_settings(default_locale=language), clock=clock)
    try:
        received = await _text_in(tandem, channel, body, fake_twilio, fake_telegram)
        # No coach account exists here: the reply must not promise that one will answer.
        assert len(received) == 1 and ("No one" in received[0] or "nadie" in received[0])
        esc = await _escalation(tandem)
        assert (esc.reason, esc.priority) == ("human_request", "normal")
    finally:
        await tandem.close()
