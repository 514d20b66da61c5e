"""Webhook routes and channel lifecycle for one Tandem process.

Every handler stores the message (committed) before answering 200; processing continues in a
task the service tracks, so a SIGTERM waits for it and a crash leaves it to the sweeper.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from bot import metrics
from bot.channels import optout
from bot.channels.base import Channel, InboundMessage
from bot.channels.statuses import record_status
from bot.channels.telegram import WEBHOOK_PATH, TelegramChannel, decode_json
from bot.channels.trychat import TryChannel
from bot.channels.twilio import (
    INBOUND_PATH,
    OPTED_OUT_CODES,
    STATUS_PATH,
    TwilioChannel,
    inbound_message,
    status_update,
    twiml_ok,
)
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.service import Tandem

log = structlog.get_logger("tandem.webhooks")


def build_channels(settings: Settings) -> dict[str, Channel]:
    """The channels whose credentials are set, plus the try-it channel when it is on."""
    channels: dict[str, Channel] = {}
    if settings.try_channel_enabled:
        channels["try"] = TryChannel()
    if settings.twilio_enabled:
        channels["sms"] = TwilioChannel(settings)
    if settings.telegram_enabled:
        channels["telegram"] = TelegramChannel(settings)
    return channels


async def start_channels(tandem: Tandem, *, background: bool = True) -> None:
    """Recover inbound messages a crash left unprocessed; initialize PTB; register the
    Telegram webhook (https public URL) or start polling. Without `background` (a web-only
    process) only PTB is initialized: the worker processes do the rest. When the Bot API cannot
    be reached, everything else serves anyway and Telegram keeps being retried in the background."""
    if background:
        # Safe beside other live processes: each patient is processed under their lock.
        tandem.spawn(tandem.pipeline.sweep_unprocessed(older_than_seconds=0))
    telegram = tandem.dispatcher.channels.get("telegram")
    if not isinstance(telegram, TelegramChannel):
        return
    try:
        async with asyncio.timeout(FIRST_TRY_SECONDS):
            await _connect_telegram(tandem, telegram, background)
    except Exception as exc:
        log.error("telegram_unavailable", error=type(exc).__name__, retrying=True)
        tandem.spawn_daemon(_retry_telegram(tandem, telegram, background))


FIRST_TRY_SECONDS = 5.0
RETRY_MAX_SECONDS = 60.0


async def _connect_telegram(tandem: Tandem, telegram: TelegramChannel, background: bool) -> None:
    await telegram.start()
    if not background:
        return
    if tandem.settings.telegram_mode == "polling":
        tandem.spawn_daemon(telegram.poll(lambda data: handle_telegram_update(tandem, data)))
    elif tandem.settings.public_url.startswith("https://"):
        url = await telegram.register_webhook()
        log.info("telegram_webhook_registered", url=url)


async def _retry_telegram(tandem: Tandem, telegram: TelegramChannel, background: bool) -> None:
    delay = 1.0
    while True:
        await asyncio.sleep(delay)
        try:
            await _connect_telegram(tandem, telegram, background)
        except Exception as exc:
            delay = min(RETRY_MAX_SECONDS, delay * 2)
            log.warning("telegram_unavailable", error=type(exc).__name__, retry_in=delay)
            continue
        log.info("telegram_connected")
        return


async def close_channels(channels: dict[str, Channel]) -> None:
    for channel in channels.values():
        close = getattr(channel, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


async def accept(tandem: Tandem, message: InboundMessage) -> bool:
    """Store `message` (committed) and process it in the background; False if a duplicate."""
    receipt = await tandem.pipeline.store(message)
    metrics.INBOUND.labels(message.channel, "duplicate" if receipt.duplicate else "accepted").inc()
    if receipt.duplicate:
        return False
    tandem.spawn(_timed(tandem, message.channel, receipt.patient_id))
    return True


async def _timed(tandem: Tandem, channel: str, patient_id: str) -> None:
    with metrics.STEP_SECONDS.labels(channel).time():
        await tandem.pipeline.process_patient(patient_id)


async def twilio_inbound(request: web.Request) -> web.StreamResponse:
    tandem, channel = _twilio(request)
    params = await channel.verified_form(request)
    await accept(tandem, inbound_message(params, tandem.clock.now()))
    return twiml_ok()


async def twilio_status(request: web.Request) -> web.StreamResponse:
    tandem, channel = _twilio(request)
    update = status_update(await channel.verified_form(request))
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        applied = await record_status(session, update, now)
    opted_out = update.error_code is not None and update.error_code.isdigit()
    if opted_out and int(update.error_code or 0) in OPTED_OUT_CODES and applied.patient_id:
        await optout.mark_opted_out(
            tandem.db, tandem.clock, applied.patient_id, "status_callback", "sms"
        )
    return twiml_ok()


async def handle_telegram_update(tandem: Tandem, data: dict[str, Any]) -> None:
    channel = tandem.dispatcher.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    message, callback_id = channel.parse(data, tandem.clock.now())
    if message is not None:
        await accept(tandem, message)
    if callback_id is not None:
        tandem.spawn(channel.answer_callback(callback_id))


async def telegram_webhook(request: web.Request) -> web.StreamResponse:
    from bot.app import TANDEM

    tandem = request.app[TANDEM]
    channel = tandem.dispatcher.channels["telegram"]
    assert isinstance(channel, TelegramChannel)
    channel.check_secret(request)
    data = decode_json(await request.read())
    await handle_telegram_update(tandem, data)
    return web.json_response({"ok": True})


def _twilio(request: web.Request) -> tuple[Tandem, TwilioChannel]:
    from bot.app import TANDEM

    tandem = request.app[TANDEM]
    channel = tandem.dispatcher.channels["sms"]
    assert isinstance(channel, TwilioChannel)
    return tandem, channel


def setup(app: web.Application, tandem: Tandem) -> None:
    """Add the webhook routes of every configured channel."""
    channels = tandem.dispatcher.channels
    if isinstance(channels.get("sms"), TwilioChannel):
        app.router.add_post(INBOUND_PATH, twilio_inbound)
        app.router.add_post(STATUS_PATH, twilio_status)
    if isinstance(channels.get("telegram"), TelegramChannel):
        app.router.add_post(WEBHOOK_PATH, telegram_webhook)


async def wait_all(tasks: set[asyncio.Task[Any]], seconds: float) -> None:
    if tasks:
        await asyncio.wait(set(tasks), timeout=seconds)
