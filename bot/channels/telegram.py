"""Telegram through python-telegram-bot: an `Application` without an Updater (updates arrive on
Tandem's own aiohttp route, `POST /webhooks/telegram`, or from Tandem's polling loop), sending via
its Bot. Every update is stored before it is acknowledged, deduplicated on a unique key built from
update_id (not "greater than the last seen": Telegram may restart its ids).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import structlog
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder

from bot import jsonbody
from bot.channels.base import Choice, Inbound, InboundMessage, OutboundMessage, SendError
from bot.channels.limits import TELEGRAM_CALLBACK_DATA_MAX_BYTES, TELEGRAM_MAX_CHARS
from bot.channels.parts import PartsResult
from bot.channels.sms_text import split_text
from bot.channels.throttle import Throttle

log = structlog.get_logger("tandem.telegram")
NAME = "telegram"
WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query")
POLL_TIMEOUT = 10  # seconds a getUpdates long poll may wait

FIRST_TRY_SECONDS = 5.0  # at start-up; then retried in the background, up to every minute
RETRY_MAX_SECONDS = 60.0


class TelegramSettings(Protocol):
    """The settings it reads: TANDEM_TELEGRAM_*, TANDEM_PUBLIC_URL, TANDEM_SEND_TIMEOUT."""

    @property
    def telegram_enabled(self) -> bool: ...

    telegram_bot_token: str
    telegram_webhook_secret: str
    telegram_api_url: str
    telegram_mode: Literal["webhook", "polling"]
    telegram_rate: float
    telegram_chat_rate: float
    public_url: str
    send_timeout: float


def build(settings: TelegramSettings) -> TelegramChannel | None:
    """The Telegram channel when its bot token is set (the registry calls this)."""
    return TelegramChannel(settings) if settings.telegram_enabled else None


def webhook_secret(settings: TelegramSettings) -> str:
    """TANDEM_TELEGRAM_WEBHOOK_SECRET, or one derived from the token so every process agrees."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    digest = hashlib.sha256(f"tandem-webhook:{settings.telegram_bot_token}".encode())
    return digest.hexdigest()


class TelegramChannel:
    name = NAME

    def __init__(self, settings: TelegramSettings) -> None:
        # PTB 22 warns on every duration it exposes (RetryAfter.retry_after) unless timedeltas
        # are chosen; it reads this when it builds one, so setting it here is soon enough.
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        self.settings = settings
        self.secret = webhook_secret(settings)
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token)
            .base_url(f"{settings.telegram_api_url}/bot")
            .base_file_url(f"{settings.telegram_api_url}/file/bot")
            .updater(None)
            .read_timeout(settings.send_timeout)
            .connect_timeout(settings.send_timeout)
            .build()
        )
        self.bot = self.application.bot
        self.throttle = Throttle(settings.telegram_rate, settings.telegram_chat_rate)
        self._started = False
        self._tasks: set[asyncio.Task[Any]] = set()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def routes(self, inbound: Inbound) -> Sequence[web.RouteDef]:
        async def webhook(request: web.Request) -> web.StreamResponse:
            self.check_secret(request)
            await self.handle(inbound, decode_json(await request.read()))
            return web.json_response({"ok": True})

        return [web.post(WEBHOOK_PATH, webhook)]

    async def handle(self, inbound: Inbound, data: dict[str, Any]) -> None:
        """Store one update's message (committed), then answer its button press."""
        message, callback_id = self.parse(data, inbound.now())
        if message is not None:
            await inbound.message(message)
        if callback_id is not None:
            self._spawn(self.answer_callback(callback_id))

    async def start(self, inbound: Inbound, *, background: bool) -> None:
        """Initialize PTB; with `background`, start polling or register the webhook (https
        public URL). When the Bot API cannot be reached, everything else serves anyway and this
        keeps being retried in the background."""
        try:
            async with asyncio.timeout(FIRST_TRY_SECONDS):
                await self._start(inbound, background)
        except Exception as exc:
            log.error("telegram_unavailable", error=type(exc).__name__, retrying=True)
            self._spawn(self._retry(inbound, background))

    async def _start(self, inbound: Inbound, background: bool) -> None:
        await self.connect()
        if not background:
            return
        if self.settings.telegram_mode == "polling":
            self._spawn(self.poll(lambda data: self.handle(inbound, data)))
        elif self.settings.public_url.startswith("https://"):
            url = await self.register_webhook()
            log.info("telegram_webhook_registered", url=url)

    async def _retry(self, inbound: Inbound, background: bool) -> None:
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            try:
                await self._start(inbound, background)
            except Exception as exc:
                delay = min(RETRY_MAX_SECONDS, delay * 2)
                log.warning("telegram_unavailable", error=type(exc).__name__, retry_in=delay)
                continue
            log.info("telegram_connected")
            return

    async def connect(self) -> None:
        """Initialize PTB's application once (its HTTP clients, getMe)."""
        if not self._started:
            try:
                await self.application.initialize()
            except BaseException:
                await self.bot.shutdown()  # initialize opened the HTTP clients before failing
                raise
            self._started = True

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        if self._started:
            await self.application.shutdown()
            self._started = False

    async def send(self, message: OutboundMessage) -> PartsResult:
        await self.connect()
        parts = split_text(message.text, TELEGRAM_MAX_CHARS, utf16=True)
        if not parts:
            raise SendError("empty message", permanent=True)
        chat_id: int | str = int(message.address) if _is_int(message.address) else message.address
        ids: list[str] = []
        for index, part in enumerate(parts):
            if index:
                await self.throttle.acquire(message.address)
            last = index == len(parts) - 1
            markup = keyboard(message.choices) if last and message.choices else None
            sent = await self._call(self.bot.send_message(chat_id, part, reply_markup=markup))
            ids.append(f"{sent.chat_id}:{sent.message_id}")
        return PartsResult(ids[0], len(parts), tuple(ids))

    async def _call(self, call: Awaitable[Any]) -> Any:
        try:
            async with asyncio.timeout(self.settings.send_timeout * 2):
                return await call
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise SendError("Telegram rate limit (429)", retry_after=seconds, code="429") from exc
        except Forbidden as exc:
            # "bot was blocked by the user", "user is deactivated": they cannot be reached.
            text = exc.message.lower()
            opted_out = "blocked" in text or "deactivated" in text
            raise SendError(f"Telegram 403: {exc.message}", permanent=True, code="403",
                            opted_out=opted_out) from exc  # fmt: skip
        except BadRequest as exc:
            raise SendError(f"Telegram 400: {exc.message}", permanent=True, code="400") from exc
        except (TimedOut, TimeoutError) as exc:
            raise SendError("Telegram did not answer in time") from exc
        except TelegramError as exc:  # NetworkError, 5xx: worth another try
            raise SendError(f"Telegram error: {exc.message}") from exc

    async def answer_callback(self, callback_id: str) -> None:
        try:
            await self._call(self.bot.answer_callback_query(callback_id))
        except SendError as exc:  # the button's spinner stops by itself; nothing is lost
            log.info("callback_answer_failed", reason=exc.reason)

    async def register_webhook(self) -> str:
        url = self.settings.public_url + WEBHOOK_PATH
        await self.connect()
        await self.bot.set_webhook(url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES)
        return url

    async def check(self) -> dict[str, Any]:
        """getMe and getWebhookInfo: proves the token works and shows the registered URL."""
        await self.connect()
        me = await self.bot.get_me()
        info = await self.bot.get_webhook_info()
        return {
            "username": me.username,
            "webhook_url": info.url,
            "pending": info.pending_update_count,
        }

    async def poll(self, handle: Callable[[dict[str, Any]], Awaitable[Any]]) -> None:
        """Long-poll getUpdates (TANDEM_TELEGRAM_MODE=polling, for local development). An
        update is confirmed (the offset moves past it) only after `handle` stored it."""
        await self.connect()
        await self.bot.delete_webhook()
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
                )
                failures = 0
            except TelegramError as exc:
                failures += 1
                log.warning("telegram_poll_failed", error=type(exc).__name__)
                await asyncio.sleep(min(30.0, 0.5 * 2**failures))
                continue
            for update in updates:
                await handle(update.to_dict())
                offset = update.update_id + 1

    def check_secret(self, request: web.Request) -> None:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("telegram_secret_rejected")
            raise web.HTTPForbidden(text=f"missing or invalid {SECRET_HEADER}")

    def parse(
        self, data: dict[str, Any], now: datetime
    ) -> tuple[InboundMessage | None, str | None]:
        """(message to store or None when the update is not for Tandem, callback id to answer)."""
        try:
            update = Update.de_json(data, self.bot)
            return inbound_from_update(update, now)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            # A field missing or of the wrong type (a message without chat, numeric text, a
            # callback without from): Telegram never sends these, so it is not a retry to lose.
            raise web.HTTPBadRequest(text=f"not a Telegram update: {type(exc).__name__}") from exc


def _is_int(value: str) -> bool:
    return value.lstrip("-").isdigit()


def keyboard(choices: tuple[Choice, ...]) -> InlineKeyboardMarkup:
    """One button per row; callback_data is the choice's value, cut to Telegram's 64 bytes."""
    rows = []
    for choice in choices:
        data = choice.value.encode()[:TELEGRAM_CALLBACK_DATA_MAX_BYTES].decode("utf-8", "ignore")
        rows.append([InlineKeyboardButton(choice.label[:64], callback_data=data)])
    return InlineKeyboardMarkup(rows)


MAX_KEY = 128  # messages.provider_message_id
MAX_ADDRESS = 32  # a chat id is a 64-bit integer


def _checked(value: Any, what: str, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{what} must be a number or a string")
    text = str(value)
    if not text or len(text) > limit:
        raise ValueError(f"{what} is empty or too long")
    return text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError("text must be a string")
    return value.replace("\x00", "")  # PostgreSQL: no NUL


def inbound_from_update(update: Update, now: datetime) -> tuple[InboundMessage | None, str | None]:
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return None, query.id
        sender = chat.id if chat is not None else query.from_user.id
        address = _checked(sender, "chat id", MAX_ADDRESS)
        data = _text(query.data)
        key = _checked(f"{update.update_id}:cq{query.id}", "callback id", MAX_KEY)
        return InboundMessage(NAME, address, data, key, now, payload=data[:256]), query.id
    message = update.message  # edited messages, channel posts, members: not for Tandem
    if message is None or message.chat.type != "private":
        return None, None
    text = _text(message.text) or _text(message.caption)
    address = _checked(message.chat.id, "chat id", MAX_ADDRESS)
    if message.sticker is not None:
        text = text or (message.sticker.emoji or "")
    key = _checked(f"{update.update_id}:{message.message_id}", "message id", MAX_KEY)
    return InboundMessage(NAME, address, text, key, now), None


def decode_json(raw: bytes) -> dict[str, Any]:
    try:
        data = jsonbody.load(raw, sanitize=True)
    except jsonbody.BadJson as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise web.HTTPBadRequest(text="expected a JSON object with an integer update_id")
    return data
