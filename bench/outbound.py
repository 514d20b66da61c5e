"""Outbound dispatcher: throughput, memory with a deep queue, and draining at a throttle.

    .venv/bin/python bench/outbound.py [--backend sqlite|postgres] [--scale 1.0]

1. Throughput with throttling off: 10,000 queued SMS (1,000 patients x 10) sent through the real
   twilio client to the local FakeTwilio (in this process, so its cost is included).
2. Memory with 100,000 queued rows: RSS and Python heap peak while dispatching 2,000 of them;
   the dispatcher claims a batch at a time, so the queue's depth should not show up here.
3. Draining 10,000 queued messages at a 100 msg/s throttle (TANDEM_TWILIO_RATE=100): ~100 s
   means the throttle, not Tandem, is the limit.
`--scale 0.1` shrinks every count (and the drain) tenfold for a quick look.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text

from bench.common import fresh_database
from bot.channels.twilio import TwilioChannel
from bot.clock import SystemClock
from bot.logs import configure
from bot.outbox import Dispatcher
from bot.settings import Settings
from storage import migrate
from storage.db import Database
from storage.models import Message, OutboxItem, Patient
from tests.fakes import twilio as tw
from tests.fakes.twilio import FakeTwilio


async def queue(db: Database, count: int, patients: int) -> None:
    """`count` pending rows spread over `patients`, inserted in bulk."""
    now = datetime.now(UTC)
    async with db.session() as session, session.begin():
        await session.execute(
            insert(Patient),
            [
                {"id": f"p{n:06d}", "created_at": now, "locale": "en", "timezone": "UTC",
                 "status": "active"}
                for n in range(patients)
            ],
        )  # fmt: skip
    for start in range(0, count, 10_000):
        ids = range(start + 1, min(count, start + 10_000) + 1)
        async with db.session() as session, session.begin():
            rows = [(i, f"p{i % patients:06d}", f"Message {i}: how are you today?") for i in ids]
            await session.execute(
                insert(Message),
                [
                    {"id": i, "patient_id": p, "direction": "out", "channel": "sms", "body": b,
                     "status": "queued", "created_at": now, "updated_at": now}
                    for i, p, b in rows
                ],
            )  # fmt: skip
            await session.execute(
                insert(OutboxItem),
                [
                    {"id": i, "patient_id": p, "message_id": i, "channel": "sms",
                     "address": f"+1555{i % patients:07d}", "body": b, "choices": [],
                     "priority": 0, "status": "pending", "attempts": 0, "next_attempt_at": now,
                     "created_at": now}
                    for i, p, b in rows
                ],
            )  # fmt: skip
    if db.is_postgres:  # a bulk load: give the planner statistics now (docs/DEPLOY.md)
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE outbox"))


async def setup(backend: str, workdir: Path, fake: FakeTwilio, rate: float) -> Any:
    url, drop = await fresh_database(backend, workdir)
    db = Database(url)
    await migrate.upgrade(db)
    settings = Settings(
        database_url=url,
        public_url="https://tandem.example.org",
        twilio_account_sid=tw.ACCOUNT_SID,
        twilio_auth_token=tw.AUTH_TOKEN,
        twilio_from_number="+15005550006",
        twilio_api_url=fake.url,
        twilio_rate=rate,
    )
    channel = TwilioChannel(settings)
    return db, channel, Dispatcher(db, {"sms": channel}, SystemClock()), drop


async def unsent(db: Database) -> int:
    async with db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.status != "sent")
        )
    return int(count or 0)


async def throughput(backend: str, workdir: Path, count: int) -> None:
    async with FakeTwilio() as fake:
        db, channel, dispatcher, drop = await setup(backend, workdir, fake, rate=0)
        try:
            await queue(db, count, max(1, count // 10))
            started = time.perf_counter()
            sent = await dispatcher.drain(max_rounds=10**6)
            elapsed = time.perf_counter() - started
            assert sent == count and await unsent(db) == 0 and len(fake.messages) == count
            print(f"[{backend}] throughput, throttle off: {count} messages in {elapsed:.1f} s "
                  f"= {count / elapsed:.0f} msg/s")  # fmt: skip
        finally:
            await channel.close()
            await db.close()
            await drop()


async def memory(backend: str, workdir: Path, count: int, dispatch: int) -> None:
    async with FakeTwilio() as fake:
        db, channel, dispatcher, drop = await setup(backend, workdir, fake, rate=0)
        try:
            await queue(db, count, max(1, count // 10))
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            tracemalloc.start()
            started = time.perf_counter()
            sent = 0
            while sent < dispatch:
                sent += await dispatcher.dispatch_once()
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(f"[{backend}] memory, {count} queued: dispatched {sent} in {elapsed:.1f} s "
                  f"({sent / elapsed:.0f} msg/s); Python heap peak {peak / 2**20:.1f} MiB; "
                  f"max RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB")  # fmt: skip
        finally:
            await channel.close()
            await db.close()
            await drop()


async def drain_throttled(backend: str, workdir: Path, count: int, rate: float) -> None:
    async with FakeTwilio() as fake:
        db, channel, dispatcher, drop = await setup(backend, workdir, fake, rate=rate)
        try:
            await queue(db, count, max(1, count // 10))
            stop = asyncio.Event()
            started = time.perf_counter()
            runner = asyncio.create_task(dispatcher.run(stop))
            while await unsent(db):
                await asyncio.sleep(0.5)
            elapsed = time.perf_counter() - started
            stop.set()
            await runner
            floor = count / rate
            achieved = count / elapsed
            print(f"[{backend}] drain {count} at {rate:.0f} msg/s: {elapsed:.1f} s "
                  f"(throttle floor {floor:.0f} s; {achieved:.1f} msg/s achieved)")  # fmt: skip
        finally:
            await channel.close()
            await db.close()
            await drop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count")
    parser.add_argument("--skip-drain", action="store_true", help="skip the ~100 s drain run")
    args = parser.parse_args()
    configure("warning")

    def n(base: int) -> int:
        return max(10, int(base * args.scale))

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        await throughput(args.backend, workdir, n(10_000))
        await memory(args.backend, workdir, n(100_000), n(2_000))
        if not args.skip_drain:
            await drain_throttled(args.backend, workdir, n(10_000), 100.0)


if __name__ == "__main__":
    asyncio.run(main())
