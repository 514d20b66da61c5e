"""kill -9 of `tandem serve` while 200 Twilio messages are in flight: nothing lost, order kept.

20 patients each send 10 messages, one after another as a phone would; Twilio's retry is played
by the injector (a webhook that got no 200 is posted again with the same MessageSid). The server
is SIGKILLed after about 80 acknowledgements and restarted. Afterwards every inbound message is
stored exactly once, every reply the conversations produced reached the fake Twilio at least once,
and in order per patient. Duplicates are possible only for rows whose send was in flight at the
crash (the documented at-least-once edge): each is a row with more than one attempt, and counted.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.channels.sms_text import normalize_gsm
from storage.db import Database
from storage.models import Message, OutboxItem, Patient
from tests.e2e.server import Server
from tests.fakes import twilio as tw
from tests.fakes.twilio import FakeTwilio, inbound_sms_params, signed_webhook_headers

PATIENTS, PER_PATIENT = 20, 10
SCRIPT = ["hi", "yes", "Sam", "9am", "7", "slept ok", "5", "fine", "3", "good"]
KILL_AFTER = 80


def _server(db_url: str, tmp_path: Path, fake: FakeTwilio) -> Server:
    return Server(
        db_url,
        tmp_path / "serve.log",
        TANDEM_TRY_CHANNEL="off",
        TANDEM_TWILIO_ACCOUNT_SID=tw.ACCOUNT_SID,
        TANDEM_TWILIO_AUTH_TOKEN=tw.AUTH_TOKEN,
        TANDEM_TWILIO_FROM_NUMBER="+15005550006",
        TANDEM_TWILIO_API_URL=fake.url,
        TANDEM_TWILIO_RATE="0",
        TANDEM_OUTBOX_LEASE_SECONDS="2",
        TANDEM_LOG_LEVEL="warning",
    )


@pytest.mark.timeout(300)
async def test_kill_9_with_200_messages_in_flight(db_url: str, tmp_path: Path) -> None:
    async with FakeTwilio() as fake:
        server = _server(db_url, tmp_path, fake)
        acked = 0
        killed = asyncio.Event()
        restarted = asyncio.Event()
        sids = itertools.count()

        async def patient(n: int, http: aiohttp.ClientSession) -> None:
            nonlocal acked
            phone = f"+1555000{n:04d}"
            for text in SCRIPT:
                params = inbound_sms_params(phone, text, message_sid=f"SM{next(sids):032x}")
                while True:  # as Twilio does, post again until a 200 arrives
                    url = server.url + "/webhooks/twilio/sms"
                    headers = signed_webhook_headers(url, params)
                    try:
                        async with http.post(url, data=urlencode(params), headers=headers) as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.05)
                    if killed.is_set():
                        await restarted.wait()
                acked += 1
                if acked == KILL_AFTER and not killed.is_set():
                    killed.set()
                    server.kill()
                    await server.start()
                    restarted.set()

        # Slow provider answers keep sends in flight, so the kill lands mid-send too.
        fake.script(*(tw.slow(0.2) for _ in range(150)))
        try:
            await server.start()
            async with aiohttp.ClientSession() as http:
                await asyncio.gather(*(patient(n, http) for n in range(PATIENTS)))
            assert killed.is_set()
            db = Database(db_url)
            try:
                await _wait_all_sent(db)
                await _check(db, fake)
            finally:
                await db.close()
        finally:
            server.stop()


async def _wait_all_sent(db: Database, timeout: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with db.session() as session:
            unsent = await session.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.status != "sent")
            )
            unprocessed = await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.direction == "in", Message.status == "received")
            )
        if unsent == 0 and unprocessed == 0:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{unsent} replies unsent, {unprocessed} messages unprocessed")
        await asyncio.sleep(0.2)


async def _check(db: Database, fake: FakeTwilio) -> None:
    async with db.session() as session:
        inbound = (
            await session.execute(
                select(Message.provider_message_id, Message.status).where(Message.direction == "in")
            )
        ).all()
        rows = (await session.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars().all()
        phones = dict(
            (
                await session.execute(
                    select(Patient.id, OutboxItem.address).join(
                        OutboxItem, OutboxItem.patient_id == Patient.id
                    )
                )
            ).all()
        )
    # Every message stored exactly once, and processed.
    assert len(inbound) == PATIENTS * PER_PATIENT
    assert len({sid for sid, _ in inbound}) == PATIENTS * PER_PATIENT
    assert {status for _, status in inbound} == {"processed"}
    assert len(phones) == PATIENTS
    # Every reply reached the provider, in order per patient; duplicates only for rows retried.
    by_phone: dict[str, list[str]] = {}
    for message in fake.messages:
        by_phone.setdefault(message["to"], []).append(message["body"])
    duplicates = len(fake.messages) - len(rows)
    retried = [r for r in rows if r.attempts > 1]
    assert 0 <= duplicates <= len(retried)
    for phone in set(phones.values()):
        expected = [normalize_gsm(r.body) for r in rows if r.address == phone]
        assert _collapse(by_phone[phone]) == _collapse(expected), phone
    print(f"kill -9: {len(rows)} replies, {duplicates} duplicate sends, {len(retried)} retried")


def _collapse(bodies: list[str]) -> list[str]:
    """Drop immediate repeats (an at-least-once resend lands right after the original)."""
    return [b for i, b in enumerate(bodies) if i == 0 or bodies[i - 1] != b]
