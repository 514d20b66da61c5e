"""Throttles hold the rate, crisis rows go first, `tandem channels check`, settings."""

from __future__ import annotations

import io
import time
from argparse import Namespace
from collections.abc import Callable

import pytest

from bot.channelcmd import run
from bot.channels.throttle import Throttle
from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from storage import repo
from tests.bot.channels.conftest import outbox, patients
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio
from tests.helpers import say


async def test_throttle_holds_the_overall_rate() -> None:
    throttle = Throttle(overall_rate=20)
    started = time.monotonic()
    for n in range(40):  # the bucket lets the first 20 through, then 20 per second
        await throttle.acquire(f"r{n}")
    assert time.monotonic() - started >= 0.9


async def test_throttle_holds_the_per_recipient_rate() -> None:
    throttle = Throttle(overall_rate=0, per_recipient_rate=5)
    started = time.monotonic()
    for _ in range(10):
        await throttle.acquire("same chat")
    others = time.monotonic()
    for n in range(10):
        await throttle.acquire(f"chat {n}")
    assert others - started >= 0.9
    assert time.monotonic() - others < 0.5  # other chats are not held back


async def test_dispatcher_sends_at_the_configured_rate(
    make_settings: Callable[..., Settings], fake_twilio: FakeTwilio, clock: FakeClock
) -> None:
    service = Tandem(make_settings(twilio_rate=10), clock=clock)
    try:
        for n in range(15):
            await say(service, "hi", channel="sms", address=f"+1555000{n:04d}", mid=f"SMr{n}")
        started = time.monotonic()
        await service.dispatcher.drain()
        elapsed = time.monotonic() - started
        count = len(fake_twilio.messages)
        assert count == len(await outbox(service)) and count >= 30
        assert elapsed >= (count - 10) / 10 * 0.9  # first 10 are a burst, then 10 per second
    finally:
        await service.close()


async def test_urgent_rows_jump_the_patient_queue(service: Tandem, fake_twilio: FakeTwilio) -> None:
    receipt = await say(service, "hi", channel="sms", address="+15551230001", mid="SMu")
    async with service.db.session() as session, session.begin():
        await repo.enqueue(
            session,
            receipt.patient_id,
            "sms",
            "+15551230001",
            "If you are in danger, call 988.",
            service.clock.now(),
            priority=10,
        )
    await service.dispatcher.drain()
    assert fake_twilio.messages[0]["body"] == "If you are in danger, call 988."
    assert len(fake_twilio.messages) == len(await outbox(service))


def test_a_channel_is_on_when_its_credentials_are_set() -> None:
    assert not Settings().has_provider_credentials
    assert Settings(telegram_bot_token="1:x").has_provider_credentials
    full = Settings(
        twilio_account_sid="AC1", twilio_auth_token="t", twilio_messaging_service_sid="MG1"
    )
    assert full.twilio_enabled and not full.try_channel_enabled


@pytest.mark.parametrize("name", ["TWILIO_RATE", "TELEGRAM_CHAT_RATE"])
def test_negative_rates_are_refused(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import SettingsError, load_settings

    monkeypatch.setenv(f"TANDEM_{name}", "-1")
    with pytest.raises(SettingsError, match=f"TANDEM_{name}"):
        load_settings()


async def test_channels_check_verifies_both_and_prints_urls(
    make_settings: Callable[..., Settings], fake_twilio: FakeTwilio, fake_telegram: FakeTelegram
) -> None:
    out = io.StringIO()
    assert await run(Namespace(command="channels"), make_settings(), out) == 0
    text = out.getvalue()
    assert "sms: ok, Twilio account 'Tandem test account'" in text
    assert "https://tandem.example.org/webhooks/twilio/sms" in text
    assert "https://tandem.example.org/webhooks/twilio/status" in text
    assert "telegram: ok, bot @tandem_test_bot" in text
    assert "https://tandem.example.org/webhooks/telegram" in text


async def test_channels_check_fails_on_bad_credentials(
    make_settings: Callable[..., Settings],
) -> None:
    out = io.StringIO()
    settings = make_settings(twilio_auth_token="wrong", telegram_bot_token="1:wrong")
    assert await run(Namespace(command="channels"), settings, out) == 1
    assert "sms: FAILED" in out.getvalue() and "telegram: FAILED" in out.getvalue()
    assert "1:wrong" not in out.getvalue()  # the token is never printed


async def test_channels_check_without_channels_names_the_settings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run(Namespace(command="channels"), Settings(), io.StringIO()) == 1
    assert "TANDEM_TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


async def test_telegram_help_and_stop(service: Tandem) -> None:
    receipt = await say(service, "/start", channel="telegram", address="99", mid="t1")
    before = len(await outbox(service))
    await say(service, "/help", channel="telegram", address="99", mid="t2")
    rows = await outbox(service)
    assert len(rows) == before + 1 and "your care team" in rows[-1].body
    await say(service, "/stop", channel="telegram", address="99", mid="t3")
    (patient,) = await patients(service)
    assert patient.status == "opted_out" and patient.id == receipt.patient_id
    assert "unsubscribed" in (await outbox(service))[-1].body
