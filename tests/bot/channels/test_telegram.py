"""Telegram on the real app and the real python-telegram-bot against FakeTelegram."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.channels.base import Choice, OutboundMessage, SendError
from bot.channels.telegram import TelegramChannel
from bot.service import Tandem
from bot.settings import Settings
from tests.bot.channels.conftest import Client, messages, outbox, patients, settle
from tests.fakes import telegram as tg
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_updates import UpdateFactory

HOOK = "/webhooks/telegram"
SECRET = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
CHAT = 4242
updates = UpdateFactory()


async def post(client: Client, update: Any, headers: dict[str, str] | None = None) -> int:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    hdrs = {"Content-Type": "application/json", **(SECRET if headers is None else headers)}
    return (await client.post(HOOK, data=body, headers=hdrs)).status


@pytest.mark.parametrize(
    ("make", "stored"),
    [
        (lambda: updates.text_message(CHAT, "hello"), ("hello", None, {})),
        (lambda: updates.text_message(CHAT, "/start"), ("/start", None, {})),
        (lambda: updates.text_message(CHAT, "😀 مرحبا"), ("😀 مرحبا", None, {})),
        (lambda: updates.callback_query(CHAT, "yes"), ("yes", "yes", {})),
        (lambda: updates.sticker(CHAT, "👍"), ("👍", None, {"kind": "sticker"})),
        (lambda: updates.photo(CHAT, "my walk"), ("my walk", None, {"kind": "photo"})),
        (lambda: updates.photo(CHAT), ("", None, {"kind": "photo"})),
        (lambda: updates.edited_message(CHAT, 3, "changed"), None),
        (lambda: updates.channel_post("news"), None),
        (lambda: {"update_id": 5, "my_chat_member": {}}, None),
    ],
    ids=[
        "text", "start", "emoji-rtl", "callback", "sticker", "photo-caption", "photo",
        "edited", "channel-post", "other",
    ],
)  # fmt: skip
async def test_update_table(
    client: Client, service: Tandem, make: Callable[[], dict[str, Any]], stored: Any
) -> None:
    assert await post(client, make()) == 200
    await settle(service)
    inbound = await messages(service, "in")
    if stored is None:
        assert inbound == []
        return
    (message,) = inbound
    assert (message.body, message.payload) == stored[:2]
    assert message.channel == "telegram"


async def test_callback_query_is_answered(
    client: Client, service: Tandem, fake_telegram: FakeTelegram
) -> None:
    update = updates.callback_query(CHAT, "7")
    assert await post(client, update) == 200
    await settle(service)
    assert [c["callback_query_id"] for c in fake_telegram.answered_callbacks] == [
        update["callback_query"]["id"]
    ]


async def test_first_message_starts_onboarding_and_replies(
    client: Client, service: Tandem, fake_telegram: FakeTelegram
) -> None:
    assert await post(client, updates.text_message(CHAT, "/start")) == 200
    await settle(service)
    assert fake_telegram.sent and fake_telegram.sent[0]["chat"]["id"] == CHAT
    assert fake_telegram.sent[-1]["text"].startswith("Would you like to join?")


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
async def test_wrong_or_missing_secret_is_403_and_nothing_stored(
    client: Client, service: Tandem, headers: dict[str, str]
) -> None:
    assert await post(client, updates.text_message(CHAT, "hi"), headers) == 403
    await settle(service)
    assert await messages(service) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"\xff\xfe{}", 400),
        (b"[1, 2]", 400),
        (b'{"update_id": "x"}', 400),
        (b'{"update_id": 1, "message": {"chat": 5}}', 400),
        (b'{"update_id": 1, "message": "x"}', 400),
        (b'{"a": "' + b"x" * 70_000 + b'"}', 413),
    ],
    ids=["syntax", "non-utf8", "array", "bad-id", "bad-message", "string-message", "huge"],
)
async def test_malformed_bodies_get_a_clear_4xx(
    client: Client, service: Tandem, body: bytes, status: int
) -> None:
    resp = await client.post(
        HOOK, data=body, headers={**SECRET, "Content-Type": "application/json"}
    )
    assert resp.status == status
    assert (await resp.json())["status"] == status
    assert await messages(service) == []


async def test_duplicate_update_is_stored_and_answered_once(
    client: Client, service: Tandem, fake_telegram: FakeTelegram
) -> None:
    update = updates.text_message(CHAT, "hi")
    assert await post(client, update) == 200
    await settle(service)
    sent = len(fake_telegram.sent)
    assert await post(client, update) == 200
    await settle(service)
    assert len(await messages(service, "in")) == 1 and len(fake_telegram.sent) == sent


async def test_restarted_update_ids_are_not_mistaken_for_duplicates(
    client: Client, service: Tandem
) -> None:
    fresh = UpdateFactory(first_update_id=1)
    assert await post(client, fresh.text_message(CHAT, "one")) == 200
    later = UpdateFactory(first_update_id=1)  # Telegram restarted its ids
    later._message_ids = iter(range(50, 60))
    assert await post(client, later.text_message(CHAT, "two")) == 200
    await settle(service)
    assert [m.body for m in await messages(service, "in")] == ["one", "two"]


# --- sending ----------------------------------------------------------------------------


@pytest.fixture
async def channel(make_settings: Callable[..., Settings]) -> AsyncIterator[TelegramChannel]:
    telegram = TelegramChannel(make_settings())
    yield telegram
    await telegram.close()


def item(text: str, choices: tuple[Choice, ...] = ()) -> OutboundMessage:
    return OutboundMessage(1, "p1", "telegram", str(CHAT), text, choices)


async def test_choices_become_an_inline_keyboard(
    channel: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    await channel.send(item("Pick one", (Choice("Walk", "walk"), Choice("Read", "x" * 80))))
    (message,) = fake_telegram.sent
    rows = message["reply_markup"]["inline_keyboard"]
    assert [r[0]["text"] for r in rows] == ["Walk", "Read"]
    assert rows[0][0]["callback_data"] == "walk" and len(rows[1][0]["callback_data"]) == 64


async def test_over_4096_is_split_with_the_keyboard_on_the_last_part(
    channel: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    text = "\n".join(f"Line {i} 🙂 of a long message." for i in range(400))
    result = await channel.send(item(text, (Choice("OK", "ok"),)))
    assert len(fake_telegram.sent) == result.segments == 4  # ~12.7k UTF-16 units
    assert "reply_markup" not in fake_telegram.sent[0]
    assert "reply_markup" in fake_telegram.sent[-1]
    assert "\n".join(m["text"] for m in fake_telegram.sent) == text


@pytest.mark.parametrize(
    ("outcome", "permanent", "opted_out", "retry_after"),
    [
        (tg.too_many_requests(3), False, False, 3.0),
        (tg.blocked_by_user(), True, True, None),
        (tg.chat_not_found(), True, False, None),
        (tg.server_error(), False, False, None),
    ],
    ids=["429", "blocked", "400", "500"],
)
async def test_provider_errors_map_to_send_errors(
    channel: TelegramChannel,
    fake_telegram: FakeTelegram,
    outcome: Any,
    permanent: bool,
    opted_out: bool,
    retry_after: float | None,
) -> None:
    fake_telegram.script(outcome)
    with pytest.raises(SendError) as info:
        await channel.send(item("hi"))
    assert (info.value.permanent, info.value.opted_out) == (permanent, opted_out)
    assert info.value.retry_after == retry_after


async def test_blocked_bot_opts_the_patient_out_through_the_dispatcher(
    client: Client, service: Tandem, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.script(tg.blocked_by_user())
    assert await post(client, updates.text_message(CHAT, "hi")) == 200
    await settle(service)
    (patient,) = await patients(service)
    assert patient.status == "opted_out"
    assert {r.status for r in await outbox(service)} <= {"failed", "cancelled"}
    # Writing again means they unblocked the bot: back in, and the conversation goes on.
    assert await post(client, updates.text_message(CHAT, "yes")) == 200
    await settle(service)
    (patient,) = await patients(service)
    assert patient.status == "active"


async def test_429_is_waited_out_not_dropped(
    client: Client, service: Tandem, fake_telegram: FakeTelegram, clock: Any
) -> None:
    from datetime import timedelta

    fake_telegram.script(tg.too_many_requests(30))
    assert await post(client, updates.text_message(CHAT, "hi")) == 200
    await settle(service)
    first = (await outbox(service))[0]
    assert first.status == "pending" and first.next_attempt_at >= clock.now() + timedelta(
        seconds=30
    )
    clock.advance(timedelta(seconds=31))
    await service.dispatcher.drain()
    assert {r.status for r in await outbox(service)} == {"sent"}


async def test_check_and_webhook_registration(
    channel: TelegramChannel, fake_telegram: FakeTelegram
) -> None:
    url = await channel.register_webhook()
    assert url == "https://tandem.example.org/webhooks/telegram"
    assert fake_telegram.webhook["secret_token"] == "s3cret-token"
    info = await channel.check()
    assert info["username"] == "tandem_test_bot" and info["webhook_url"] == url


async def test_polling_mode_stores_updates(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, clock: Any
) -> None:
    service = Tandem(make_settings(telegram_mode="polling"), clock=clock)
    try:
        await service.start_background()
        fake_telegram.push_update(updates.text_message(CHAT, "hi from polling"))
        for _ in range(100):
            if await messages(service, "in"):
                break
            await asyncio.sleep(0.05)
        (message,) = await messages(service, "in")
        assert message.body == "hi from polling"
    finally:
        await service.close()


async def test_serving_with_an_https_public_url_registers_the_webhook(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, clock: Any
) -> None:
    service = Tandem(make_settings(), clock=clock)
    try:
        await service.start_background()
        assert fake_telegram.webhook["url"] == "https://tandem.example.org/webhooks/telegram"
        assert fake_telegram.webhook["secret_token"] == "s3cret-token"
    finally:
        await service.close()
    plain = Tandem(make_settings(public_url="http://127.0.0.1:8080"), clock=clock)
    try:
        fake_telegram.webhook = {}
        await plain.start_background()
        assert fake_telegram.webhook == {}  # Telegram only calls https webhooks
    finally:
        await plain.close()
