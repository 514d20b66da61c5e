"""The real twilio and python-telegram-bot libraries against the fakes."""

from __future__ import annotations

import asyncio
import json
import re
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
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes import telegram as tg
from tests.fakes import twilio as tw
from tests.fakes._server import Outcome
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_updates import UpdateFactory
from tests.fakes.twilio import FakeTwilio, twilio_client

# twilio 9.x passes aiohttp.BasicAuth as `auth=` on every async request; aiohttp 3.14 deprecates
# both. Harmless, but `filterwarnings = error` would turn them into failures.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:BasicAuth is deprecated:DeprecationWarning:twilio.http.async_http_client"
    ),
    pytest.mark.filterwarnings(
        "ignore:The 'auth' parameter is deprecated:DeprecationWarning:twilio.base.client_base"
    ),
]

TO = "+15551230001"
FROM = "+15005550006"


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


@pytest.fixture
async def twilio(fake_twilio: FakeTwilio) -> AsyncIterator[Client]:
    client, http = twilio_client(fake_twilio)
    try:
        yield client
    finally:
        await http.close()


async def test_twilio_create_message(fake_twilio: FakeTwilio, twilio: Client) -> None:
    message = await twilio.messages.create_async(
        to=TO, from_=FROM, body="Hi “there”", status_callback="https://tandem.test/sms/status"
    )
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.status == "queued"
    assert message.num_segments == "1"
    assert message.to == TO
    assert message.from_ == FROM
    assert message.account_sid == fake_twilio.account_sid
    assert message.date_created is not None
    (request,) = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Messages.json"
    assert request.data == {
        "To": TO,
        "From": FROM,
        "Body": "Hi “there”",
        "StatusCallback": "https://tandem.test/sms/status",
    }
    assert fake_twilio.messages[0]["sid"] == message.sid


async def test_twilio_segments_and_messaging_service(
    fake_twilio: FakeTwilio, twilio: Client
) -> None:
    message = await twilio.messages.create_async(
        to=TO, messaging_service_sid="MG" + "1" * 32, body="😀" * 36
    )
    assert message.num_segments == "2"
    assert message.status == "accepted"
    assert message.messaging_service_sid == "MG" + "1" * 32
    assert "From" not in fake_twilio.requests[0].data


async def test_twilio_wrong_credentials(fake_twilio: FakeTwilio) -> None:
    http = AsyncTwilioHttpClient()
    client = Client(tw.ACCOUNT_SID, "wrong-token", http_client=http, environment={})
    client.api.base_url = fake_twilio.url
    fake_twilio.script(tw.server_error())
    try:
        with pytest.raises(TwilioRestException) as info:
            await client.messages.create_async(to=TO, from_=FROM, body="x")
    finally:
        await http.close()
    assert (info.value.status, info.value.code) == (401, 20003)
    assert fake_twilio.messages == []
    assert fake_twilio.pending_outcomes == 1  # rejected requests don't consume outcomes


@pytest.mark.parametrize(
    ("outcome", "status", "code"),
    [
        (tw.unsubscribed_recipient(), 400, 21610),
        (tw.invalid_to_number(), 400, 21211),
        (tw.server_error(), 500, 20500),
        (tw.rate_limited(7), 429, 20429),
    ],
)
async def test_twilio_scripted_errors(
    fake_twilio: FakeTwilio, twilio: Client, outcome: Outcome, status: int, code: int
) -> None:
    fake_twilio.script(outcome)
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to=TO, from_=FROM, body="hello")
    assert (info.value.status, info.value.code) == (status, code)
    assert fake_twilio.messages == []
    # The outcome applied once; the next request succeeds.
    await twilio.messages.create_async(to=TO, from_=FROM, body="hello")
    assert len(fake_twilio.messages) == 1


async def test_twilio_rate_limit_sends_retry_after(fake_twilio: FakeTwilio) -> None:
    # TwilioRestException drops response headers, so check the wire directly.
    fake_twilio.script(tw.rate_limited(7))
    url = f"{fake_twilio.url}/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Messages.json"
    headers = {"Authorization": aiohttp.encode_basic_auth(tw.ACCOUNT_SID, tw.AUTH_TOKEN)}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data={"To": TO, "From": FROM, "Body": "x"}, headers=headers) as resp,
    ):
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "7"
        assert (await resp.json())["code"] == 20429


async def test_twilio_validation_errors(twilio: Client) -> None:
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to="12345", from_=FROM, body="x")
    assert info.value.code == 21211
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to=TO, from_=FROM, body="x" * 1601)
    assert info.value.code == 21617
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to=TO, body="x")
    assert info.value.code == 21603


async def test_twilio_timeout_needs_caller_deadline(
    fake_twilio: FakeTwilio, twilio: Client
) -> None:
    # AsyncTwilioHttpClient ignores its own `timeout` argument (it passes timeout=None to
    # aiohttp per request), so callers must impose a deadline themselves.
    fake_twilio.script(tw.slow(5))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await twilio.messages.create_async(to=TO, from_=FROM, body="slow")
    assert len(fake_twilio.requests) == 1


async def test_slow_success_still_creates_message(fake_twilio: FakeTwilio, twilio: Client) -> None:
    fake_twilio.script(tw.slow(0.1))
    message = await twilio.messages.create_async(to=TO, from_=FROM, body="late")
    assert fake_twilio.messages[0]["sid"] == message.sid


def test_signed_webhook_validates() -> None:
    url = "https://tandem.test/sms/inbound?x=1"
    params = tw.inbound_sms_params(from_=TO, body="STOP")
    headers = tw.signed_webhook_headers(url, params)
    validator = RequestValidator(tw.AUTH_TOKEN)
    assert validator.validate(url, params, headers["X-Twilio-Signature"])
    assert not validator.validate(url, {**params, "Body": "START"}, headers["X-Twilio-Signature"])
    assert not RequestValidator("other").validate(url, params, headers["X-Twilio-Signature"])
    status = tw.status_callback_params("SM" + "a" * 32, "undelivered", to=TO, error_code="30003")
    assert validator.validate(url, status, tw.sign_webhook(url, status))
    assert status["ErrorCode"] == "30003"


# --- Telegram -----------------------------------------------------------------------------


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
