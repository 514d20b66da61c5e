"""`tandem serve` at debug level, driven through every channel (try-it, Twilio, Telegram, the
console login), a database fault and a crash: every log line is JSON, and none carries a planted
marker (a name, message bodies, phone numbers, a chat id, the bot token, an email)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from bot.logs import clean, redact
from tests.conftest import BACKEND
from tests.e2e.server import Server, sid
from tests.fakes import telegram as tg
from tests.fakes import twilio as tw
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_updates import UpdateFactory
from tests.fakes.twilio import FakeTwilio, inbound_sms_params, signed_webhook_headers

BODY = "Quokkamarker"
NAME = "Zeldamarker"
PHONE = "+15557654321"
CHAT_ID = 918273645
EMAIL = "mallory.marker@example.org"
SECRET = "tg-secret-0123456789"
MARKERS = (BODY, NAME, "5557654321", str(CHAT_ID), tg.TOKEN.split(":")[1], "mallory", "7777777")


def test_redact_drops_sql_parameters_tokens_and_numbers() -> None:
    try:
        raise ValueError(f"[SQL: INSERT] [parameters: ('{BODY}', '{PHONE}')]")
    except ValueError:
        event = redact(None, "error", {"event": "request_failed", "exc_info": True, "body": BODY})
    text = json.dumps(event)
    assert BODY not in text and "5557654321" not in text
    assert event["error"] == "builtins.ValueError" and event["trace"]
    assert "123456789:" not in clean(f"POST https://api.telegram.org/bot{tg.TOKEN}/getMe")
    assert "\x00" not in clean("+1555\x00" + "9" * 500) and len(clean("x" * 5000)) < 210


async def _wait(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.skipif(BACKEND != "sqlite", reason="the fault is injected by renaming a SQLite table")
@pytest.mark.timeout(120)
async def test_logs_carry_no_patient_data(db_url: str, tmp_path: Path) -> None:
    log_path = tmp_path / "serve.log"
    updates = UpdateFactory()
    async with FakeTwilio() as twilio, FakeTelegram() as telegram, aiohttp.ClientSession() as http:
        server = Server(
            db_url,
            log_path,
            TANDEM_LOG_LEVEL="debug",
            TANDEM_TWILIO_ACCOUNT_SID=tw.ACCOUNT_SID,
            TANDEM_TWILIO_AUTH_TOKEN=tw.AUTH_TOKEN,
            TANDEM_TWILIO_FROM_NUMBER="+15005550006",
            TANDEM_TWILIO_API_URL=twilio.url,
            TANDEM_TWILIO_RATE="0",
            TANDEM_TELEGRAM_BOT_TOKEN=tg.TOKEN,
            TANDEM_TELEGRAM_API_URL=telegram.url,
            TANDEM_TELEGRAM_WEBHOOK_SECRET=SECRET,
            TANDEM_TELEGRAM_RATE="0",
            TANDEM_TELEGRAM_CHAT_RATE="0",
        )
        try:
            await server.start()

            async def sms(sender: str, text: str) -> int:
                url = server.url + "/webhooks/twilio/sms"
                params = inbound_sms_params(sender, text)
                headers = signed_webhook_headers(url, params)
                async with http.post(url, data=urlencode(params), headers=headers) as r:
                    return r.status

            async def try_it(text: str) -> int:
                body = {"session": sid("s1"), "text": text}
                async with http.post(server.url + "/try/api/messages", json=body) as r:
                    return r.status

            async def telegram_text(text: str) -> int:
                update = updates.text_message(CHAT_ID, text)
                update["message"]["from"]["first_name"] = NAME
                update["message"]["chat"]["first_name"] = NAME
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                url = server.url + "/webhooks/telegram"
                async with http.post(url, json=update, headers=headers) as r:
                    return r.status

            assert await try_it(f"hello {BODY}") == 202
            assert await sms(PHONE, f"hi {BODY}") == 200
            assert await sms("+1555\x00" + "7" * 300, f"hi {BODY}") in (200, 400)
            assert await telegram_text(f"hello {BODY} {NAME}") == 200
            await _wait(lambda: twilio.messages and telegram.sent)
            login = {"email": EMAIL, "password": f"{BODY}-password", "csrf": "x"}
            async with http.post(server.url + "/console/login", data=login) as r:
                assert r.status == 403

            # A database fault mid-request: statements fail with the body bound as a parameter.
            database = make_url(db_url).database
            assert database
            with sqlite3.connect(database) as conn:
                conn.execute("ALTER TABLE messages RENAME TO messages_away")
            assert await try_it(f"second {BODY}") >= 500
            assert await sms(PHONE, f"again {BODY}") >= 500
            assert await telegram_text(f"again {BODY}") >= 500
            with sqlite3.connect(database) as conn:
                conn.execute("ALTER TABLE messages_away RENAME TO messages")
            assert server.terminate() == 0
        finally:
            server.stop()
    lines = log_path.read_text().splitlines()
    assert len(lines) > 10
    for line in lines:
        json.loads(line)  # JSON only: no library prints its own format
    text = "\n".join(lines)
    assert '"request_failed"' in text  # the fault was logged ...
    hits = [(marker, line) for line in lines for marker in MARKERS if marker in line]
    assert hits == []  # ... without any of what the patients said or who they are
