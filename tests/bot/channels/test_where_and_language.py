"""End to end through the Twilio and Telegram webhooks: crisis lines by where the patient is,
language switching, AYUDA and the localised HELP, and PHQ-9 item 9 unclear or unanswered."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import TANDEM, create_app
from bot.channels.sms_text import count_segments
from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from storage.models import Event, Patient
from tests.bot.channels.conftest import Client, patients, settle
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_updates import UpdateFactory
from tests.fakes.twilio import FakeTwilio, inbound_sms_params, signed_webhook_headers

SMS = "/webhooks/twilio/sms"
HOOK = "/webhooks/telegram"
SECRET = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token", "Content-Type": "application/json"}
PUBLIC_URL = "https://tandem.example.org"
_sids = itertools.count(1)
updates = UpdateFactory()


async def sms(client: Client, phone: str, text: str) -> None:
    """Post a signed inbound SMS, then let it be processed and its replies sent (in order)."""
    params = inbound_sms_params(phone, text, message_sid=f"SM{next(_sids):032d}")
    headers = signed_webhook_headers(PUBLIC_URL + SMS, params)
    assert (await client.post(SMS, data=urlencode(params), headers=headers)).status == 200
    await settle(client.app[TANDEM])


async def telegram(client: Client, chat: int, text: str) -> None:
    body = json.dumps(updates.text_message(chat, text)).encode()
    assert (await client.post(HOOK, data=body, headers=SECRET)).status == 200
    await settle(client.app[TANDEM])


def to_phone(fake: FakeTwilio, phone: str) -> list[str]:
    return [m["body"] for m in fake.messages if m["to"] == phone]


def to_chat(fake: FakeTelegram, chat: int) -> list[str]:
    return [m["text"] for m in fake.sent if m["chat"]["id"] == chat]


async def patient_by_locale_or_only(service: Tandem) -> Patient:
    (patient,) = await patients(service)
    return patient


@pytest.fixture
async def made(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> AsyncIterator[Callable[..., Any]]:
    """A Tandem and a client with extra settings (closed at the end)."""
    opened: list[tuple[Tandem, TestClient[Any, Any]]] = []

    async def make(**extra: Any) -> tuple[Tandem, Client]:
        tandem = Tandem(make_settings(**extra), clock=clock)
        client: Client = TestClient(TestServer(create_app(tandem)))
        await client.start_server()
        opened.append((tandem, client))
        return tandem, client

    yield make
    for tandem, client in opened:
        await client.close()
        await tandem.close()


# --- crisis lines by where the patient is ---------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "want", "never"),
    [
        ("+12125550123", ["988", "911"], ["024", "Samaritans"]),
        ("+525512345678", ["800 911 2000", "911"], ["988", "024"]),
        ("+5491123456789", ["5275-1135", "911"], ["988", "024"]),
        ("+447700900123", ["116 123", "999"], ["988", "911"]),
        ("+919876543210", ["14416", "112"], ["988", "911"]),
        ("+81312345678", ["don't have a crisis line", "Japan"], ["988", "911", "116 123"]),
    ],
    ids=["US", "MX", "AR", "GB", "IN", "unlisted-JP"],
)
async def test_sms_crisis_lines_follow_the_phone_country(
    client: Client, service: Tandem, fake_twilio: FakeTwilio, phone: str, want: list[str],
    never: list[str],
) -> None:  # fmt: skip
    await sms(client, phone, "hi")
    await settle(service)
    before = len(to_phone(fake_twilio, phone))
    await sms(client, phone, "I want to kill myself")
    await settle(service)
    resources = to_phone(fake_twilio, phone)[before]
    assert all(item in resources for item in want), resources
    assert not [item for item in never if item in resources], resources


async def test_english_patient_writing_spanish_gets_their_countrys_lines_in_english(
    client: Client, service: Tandem, fake_twilio: FakeTwilio
) -> None:
    phone = "+12125550199"
    await sms(client, phone, "hi")
    await settle(service)
    before = len(to_phone(fake_twilio, phone))
    await sms(client, phone, "me quiero matar")
    await settle(service)
    resources = to_phone(fake_twilio, phone)[before]
    assert "Call or text 988" in resources and "911" in resources
    assert "Llame" not in resources and "024" not in resources


async def test_telegram_patient_without_a_country_gets_the_default(
    client: Client, service: Tandem, fake_telegram: FakeTelegram
) -> None:
    await telegram(client, 501, "/start")
    await settle(service)
    before = len(to_chat(fake_telegram, 501))
    await telegram(client, 501, "I want to kill myself")
    await settle(service)
    resources = to_chat(fake_telegram, 501)[before]
    assert "988" in resources and "911" in resources


@pytest.mark.parametrize(
    ("typed", "code", "reply", "emergency"),
    [("COUNTRY IN", "IN", "India", "112"), ("PAÍS Reino Unido", "GB", "United Kingdom", "999"),
     ("pais méxico", "MX", "Mexico", "911")],
)  # fmt: skip
async def test_telegram_patient_states_their_country_by_text(
    client: Client, service: Tandem, fake_telegram: FakeTelegram, typed: str, code: str,
    reply: str, emergency: str,
) -> None:  # fmt: skip
    await telegram(client, 502, "/start")
    await telegram(client, 502, typed)
    await settle(service)
    assert reply in to_chat(fake_telegram, 502)[-1]
    assert (await patient_by_locale_or_only(service)).country == code
    await telegram(client, 502, "HELP")
    await settle(service)
    assert f"In an emergency call {emergency}." in to_chat(fake_telegram, 502)[-1]


async def test_an_unknown_country_keeps_the_one_in_use_and_says_so(
    client: Client, service: Tandem, fake_telegram: FakeTelegram
) -> None:
    await telegram(client, 503, "/start")
    await telegram(client, 503, "COUNTRY Narnia")
    await settle(service)
    assert "couldn't match that to a country" in to_chat(fake_telegram, 503)[-1]
    assert "United States" in to_chat(fake_telegram, 503)[-1]
    assert (await patient_by_locale_or_only(service)).country is None


# The crisis response takes its country from bot.country.resources_for.
async def test_telegram_crisis_lines_use_the_stated_country(
    client: Client, service: Tandem, fake_telegram: FakeTelegram
) -> None:
    await telegram(client, 504, "/start")
    await telegram(client, 504, "PAÍS MX")
    await settle(service)
    before = len(to_chat(fake_telegram, 504))
    await telegram(client, 504, "I want to kill myself")
    await settle(service)
    assert "800 911 2000" in to_chat(fake_telegram, 504)[before]


async def test_telegram_crisis_lines_use_the_deployment_default(
    made: Callable[..., Any], fake_telegram: FakeTelegram
) -> None:
    tandem, client = await made(default_country="AR")
    await telegram(client, 505, "/start")
    await settle(tandem)
    before = len(to_chat(fake_telegram, 505))
    await telegram(client, 505, "I want to kill myself")
    await settle(tandem)
    assert "5275-1135" in to_chat(fake_telegram, 505)[before]


# --- language --------------------------------------------------------------------------------


async def test_language_switch_by_text_confirms_in_the_new_language(
    client: Client, service: Tandem, fake_twilio: FakeTwilio
) -> None:
    phone = "+12125550111"
    await sms(client, phone, "hi")
    await sms(client, phone, "Español")
    await settle(service)
    assert to_phone(fake_twilio, phone)[-1].startswith("Listo: a partir de ahora")
    assert (await patient_by_locale_or_only(service)).locale == "es"
    await sms(client, phone, "IDIOMA")
    await settle(service)
    assert to_phone(fake_twilio, phone)[-1] == (
        "Reply ENGLISH for English. Responda ESPAÑOL para español."
    )
    await sms(client, phone, "english")
    await settle(service)
    assert to_phone(fake_twilio, phone)[-1].startswith("Done: I'll write to you in English")
    assert (await patient_by_locale_or_only(service)).locale == "en"
    async with service.db.session() as session:
        kinds = (await session.execute(select(Event.kind, Event.data))).all()
    changes = [data for kind, data in kinds if kind == "locale_changed"]
    assert changes == [{"from": "en", "to": "es"}, {"from": "es", "to": "en"}]


async def test_ayuda_is_answered_by_tandem_even_when_twilio_answers_help(
    client: Client, service: Tandem, fake_twilio: FakeTwilio
) -> None:
    assert service.settings.twilio_opt_out_replies == "twilio"
    phone = "+525512340000"
    await sms(client, phone, "hola")
    await sms(client, phone, "ESPAÑOL")
    await settle(service)
    before = len(to_phone(fake_twilio, phone))
    await sms(client, phone, "HELP")  # Twilio's own keyword: Twilio answers it, not Tandem
    await settle(service)
    assert len(to_phone(fake_twilio, phone)) == before
    await sms(client, phone, "ayuda")
    await settle(service)
    (reply,) = to_phone(fake_twilio, phone)[before:]
    assert reply.startswith("Tandem: para ayuda, contacte con su equipo de salud.")
    assert "Emergencias: 911." in reply and "AYUDA" in reply and "STOP" in reply
    assert count_segments(reply)[1] == 1


@pytest.mark.parametrize("word", ["HELP", "AYUDA", "/help"])
async def test_help_is_fully_spanish_for_a_spanish_patient(
    client: Client, service: Tandem, fake_telegram: FakeTelegram, word: str
) -> None:
    await telegram(client, 506, "/start")
    await telegram(client, 506, "ESPANOL")
    await telegram(client, 506, word)
    await settle(service)
    reply = to_chat(fake_telegram, 506)[-1]
    assert reply.startswith("Tandem: para ayuda") and "AYUDA" in reply
    assert "your care team" not in reply and "emergency" not in reply
    assert count_segments(reply)[1] == 1


# --- PHQ-9 item 9 ------------------------------------------------------------------------------


async def _at_item9(client: Client, service: Tandem, phone: str, first: str) -> str:
    await sms(client, phone, first)
    await settle(service)
    (patient,) = await patients(service)
    await service.pipeline.start_flow(patient.id, "measure_phq9")
    for _ in range(8):
        await sms(client, phone, "0")
    await settle(service)
    return patient.id


async def _requested(service: Tandem) -> list[dict[str, Any]]:
    async with service.db.session() as session:
        rows = await session.execute(
            select(Event.data).where(Event.kind == "escalation_requested").order_by(Event.id)
        )
        return [dict(r) for r in rows.scalars()]


@pytest.mark.parametrize(
    ("phone", "first", "reply", "lines"),
    [("+12125550122", "hi", "maybe a bit", "988"),
     ("+525512349999", "hola", "casi nunca", "800 911 2000")],
)  # fmt: skip
async def test_unclear_item9_gets_the_crisis_response_in_the_same_turn(
    client: Client, service: Tandem, fake_twilio: FakeTwilio, phone: str, first: str,
    reply: str, lines: str,
) -> None:  # fmt: skip
    await _at_item9(client, service, phone, first)
    before = len(to_phone(fake_twilio, phone))
    await sms(client, phone, reply)
    await settle(service)
    sent = to_phone(fake_twilio, phone)[before:]
    assert any(lines in text for text in sent)
    assert [(e["reason"], e["priority"]) for e in await _requested(service)] == [("risk", "urgent")]
    async with service.db.session() as session:
        rows = await session.execute(select(Event.data).where(Event.kind == "measure"))
        item9 = [d for d in rows.scalars() if d["item"] == 9]
    assert item9 == [{"measure": "phq9", "item": 9, "value": 1, "interpreted": True, "raw": reply}]


async def test_unanswered_item9_escalates_high_and_is_never_a_silent_skip(
    client: Client, service: Tandem, fake_twilio: FakeTwilio
) -> None:
    phone = "+12125550133"
    await _at_item9(client, service, phone, "hi")
    for reply in ["what?", "hmm", "ok"]:
        await sms(client, phone, reply)
    await settle(service)
    assert [(e["reason"], e["priority"]) for e in await _requested(service)] == [("risk", "high")]
    assert any("988" in text for text in to_phone(fake_twilio, phone))


async def test_the_word_country_in_an_answer_is_not_a_keyword(
    client: Client, service: Tandem, fake_twilio: FakeTwilio
) -> None:
    phone = "+12125550144"
    await sms(client, phone, "hi")
    await sms(client, phone, "yes")
    await sms(client, phone, "country music")  # the name question's answer
    assert not [t for t in to_phone(fake_twilio, phone) if "match that to a country" in t]
    assert (await patient_by_locale_or_only(service)).country is None


def test_default_country_setting_is_validated(make_settings: Callable[..., Settings]) -> None:
    assert make_settings(default_country="mx").default_country == "MX"
    with pytest.raises(ValueError, match="ISO 3166"):
        make_settings(default_country="Narnia")


async def test_a_new_patient_who_starts_with_espanol_is_onboarded_in_spanish(
    client: Client, service: Tandem, fake_telegram: FakeTelegram
) -> None:
    await telegram(client, 507, "ESPAÑOL")
    sent = to_chat(fake_telegram, 507)
    assert sent[0].startswith("Listo: a partir de ahora")
    assert any(text.startswith("Hola, le escribe Tandem") for text in sent[1:])
    assert (await patient_by_locale_or_only(service)).locale == "es"
