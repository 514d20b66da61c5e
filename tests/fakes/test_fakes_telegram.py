"""The real python-telegram-bot library against FakeTelegram."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest

from tests.fakes import telegram as tg
from tests.fakes._server import Outcome
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_updates import UpdateFactory


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    # PTB 22 warns (PTBDeprecationWarning) whenever a duration such as RetryAfter.retry_after is
    # read as int; opting in to timedelta values is the forward-compatible setting.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    async with Bot(fake_telegram.token, base_url=f"{fake_telegram.url}/bot") as bot:
        yield bot


async def test_telegram_get_me_and_send(fake_telegram: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "tandem_test_bot"
    assert me.id == tg.BOT_ID
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="mood:yes")]])
    first = await bot.send_message(chat_id=42, text="Hi 👋 ready?", reply_markup=keyboard)
    second = await bot.send_message(chat_id=42, text="second")
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == 42 and first.chat.type == "private"
    assert first.text == "Hi 👋 ready?"
    assert first.reply_markup == keyboard
    assert first.date.tzinfo is not None
    request = fake_telegram.requests[-2]
    assert request.path == f"/bot{tg.TOKEN}/sendMessage"
    assert request.data["chat_id"] == "42"
    assert json.loads(request.data["reply_markup"]) == keyboard.to_dict()
    # initialize() (from `async with`) calls getMe once, then the explicit get_me.
    assert fake_telegram.calls == ["getMe", "getMe", "sendMessage", "sendMessage"]


async def test_telegram_wrong_token(fake_telegram: FakeTelegram) -> None:
    # Bot.shutdown() is a no-op unless initialize() ran, so a Bot used without `async with` (or
    # initialize()) leaks its httpx connections; __aenter__ shuts down when getMe fails.
    with pytest.raises(InvalidToken):
        async with Bot("999:wrong", base_url=f"{fake_telegram.url}/bot"):
            pass
    assert fake_telegram.requests[-1].path == "/bot999:wrong/getMe"


@pytest.mark.parametrize(
    ("outcome", "error", "text"),
    [
        (tg.blocked_by_user(), Forbidden, "Forbidden: bot was blocked by the user"),
        (tg.chat_not_found(), BadRequest, "Bad Request: chat not found"),
        (tg.server_error(), NetworkError, "Internal Server Error"),
    ],
)
async def test_telegram_scripted_errors(
    fake_telegram: FakeTelegram, bot: Bot, outcome: Outcome, error: type[Exception], text: str
) -> None:
    fake_telegram.script(outcome)
    await bot.get_me()  # outcomes target sendMessage only
    with pytest.raises(error) as info:
        await bot.send_message(chat_id=42, text="hello")
    # PTB drops the "Bad Request: " prefix and capitalizes what follows.
    assert text.split(": ")[-1].lower() in str(info.value).lower()
    assert fake_telegram.sent == []
    await bot.send_message(chat_id=42, text="hello")
    assert len(fake_telegram.sent) == 1


async def test_telegram_retry_after(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.script(tg.too_many_requests(retry_after=5))
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(chat_id=42, text="hello")
    assert info.value.retry_after == timedelta(seconds=5)


async def test_telegram_validation(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(chat_id=42, text="😀" * 2049)
    await bot.send_message(chat_id=42, text="😀" * 2048)


async def test_telegram_timeout(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.script(tg.slow(5))
    with pytest.raises(TimedOut):
        await bot.send_message(chat_id=42, text="slow", read_timeout=0.2)
    assert fake_telegram.calls[-1] == "sendMessage"


async def test_telegram_reply_markup_and_callbacks(fake_telegram: FakeTelegram, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ok", callback_data="ok")]])
    sent = await bot.send_message(chat_id=7, text="Pick", reply_markup=keyboard)
    edited = await bot.edit_message_reply_markup(chat_id=7, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(chat_id=7, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=7, message_id=999)
    assert await bot.answer_callback_query("123", text="Saved")
    assert fake_telegram.answered_callbacks == [{"callback_query_id": "123", "text": "Saved"}]


async def test_telegram_webhook_and_commands(fake_telegram: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_webhook(
        "https://tandem.test/telegram", secret_token="s3cret", allowed_updates=["message"]
    )
    info = await bot.get_webhook_info()
    assert info.url == "https://tandem.test/telegram"
    assert info.allowed_updates == ("message",)
    assert fake_telegram.webhook["secret_token"] == "s3cret"
    with pytest.raises(Conflict):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("stop", "Pause")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "stop"]


async def test_telegram_get_updates_and_builders(fake_telegram: FakeTelegram, bot: Bot) -> None:
    make = UpdateFactory()
    payloads = [
        make.text_message(42, "/start"),
        make.edited_message(42, message_id=1, text="/start again"),
        make.callback_query(42, data="mood:3", buttons=[("😐", "mood:3"), ("🙂", "mood:4")]),
        make.sticker(42),
        make.photo(42, caption="my walk"),
        make.channel_post("news"),
    ]
    fake_telegram.push_update(*payloads)
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [p["update_id"] for p in payloads]
    start, edited, tap, sticker, photo, post = updates
    assert start.message and start.message.text == "/start"
    assert start.message.entities[0].type == "bot_command"
    assert edited.edited_message and edited.edited_message.edit_date is not None
    assert tap.callback_query and tap.callback_query.data == "mood:3"
    assert tap.callback_query.message and tap.callback_query.message.chat.id == 42
    assert sticker.message and sticker.message.sticker and sticker.message.sticker.emoji == "👍"
    assert photo.message and photo.message.caption == "my walk" and len(photo.message.photo) == 3
    assert post.channel_post and post.channel_post.chat.type == "channel"
    # An offset past an update confirms it; Telegram then forgets it.
    rest = await bot.get_updates(offset=updates[2].update_id + 1, timeout=0)
    assert [u.update_id for u in rest] == [u.update_id for u in updates[3:]]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_telegram_long_poll_wakes_on_update(fake_telegram: FakeTelegram, bot: Bot) -> None:
    make = UpdateFactory()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    fake_telegram.push_update(make.text_message(1, "hi"))
    updates = await asyncio.wait_for(poll, timeout=2)
    assert [u.message.text for u in updates if u.message] == ["hi"]


async def test_telegram_fake_accepts_json_and_query(fake_telegram: FakeTelegram) -> None:
    # Other clients (and Telegram's docs) send JSON bodies or GET query strings.
    api = f"{fake_telegram.url}/bot{fake_telegram.token}"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with aiohttp.ClientSession() as session:
        payload = {"chat_id": 5, "text": "json", "reply_markup": markup}
        async with session.post(f"{api}/sendMessage", json=payload) as resp:
            body = await resp.json()
        async with session.get(f"{api}/getUpdates", params={"limit": "1"}) as resp:
            updates = await resp.json()
        async with session.get(f"{api}/noSuchMethod") as resp:
            assert resp.status == 404
    assert body["ok"] is True
    assert body["result"]["reply_markup"] == markup
    assert body["result"]["chat"] == {"id": 5, "first_name": "Patient", "type": "private"}
    assert updates == {"ok": True, "result": []}
    assert fake_telegram.requests[0].data["reply_markup"] == markup


async def test_get_updates_limit(fake_telegram: FakeTelegram, bot: Bot) -> None:
    make = UpdateFactory()
    fake_telegram.push_update(*(make.text_message(1, str(n)) for n in range(5)))
    assert len(await bot.get_updates(limit=2, timeout=0)) == 2


async def test_close_does_not_wait_for_scripted_delay() -> None:
    fake = FakeTelegram()
    await fake.start()
    fake.script(tg.slow(30, method="getMe"))
    request = HTTPXRequest(read_timeout=0.2)
    with pytest.raises(TimedOut):
        async with Bot(fake.token, base_url=f"{fake.url}/bot", request=request):
            pass
    # The handler is still "sleeping"; closing must wake it rather than wait 30 s.
    started = time.monotonic()
    await fake.close()
    assert time.monotonic() - started < 0.8  # below the runner's 1 s shutdown timeout
