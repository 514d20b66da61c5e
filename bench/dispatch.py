"""Dispatch rate against queue depth: the same number of messages dispatched with 3,000 and with
1,000,000 queued, through an instant channel so the database's share is what shows (PostgreSQL).

    .venv/bin/python bench/dispatch.py [--shallow 3000] [--deep 1000000] [--send 3000]

Rows are bulk-loaded with COPY (10 per patient, interleaved as real traffic is), then ANALYZE, as
after any bulk load. Target: the deep rate at least 0.8 of the shallow one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy.engine import make_url

from bench.common import fresh_database
from bot.channels.base import OutboundMessage, SendResult
from bot.clock import SystemClock
from bot.logs import configure
from bot.outbox import Dispatcher
from storage.db import Database
from storage.migrate import upgrade

CHUNK = 50_000
PER_PATIENT = 10


class Instant:
    """A channel that accepts everything at once."""

    name = "sms"

    async def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(provider_message_id=f"SM{message.outbox_id}")


async def queue(dsn: str, count: int) -> float:
    started = time.perf_counter()
    patients = max(1, count // PER_PATIENT)
    now = datetime.now(UTC)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "patients",
            records=[(f"p{n:07d}", now, "en", "UTC", "active") for n in range(patients)],
            columns=["id", "created_at", "locale", "timezone", "status"],
        )
        for start in range(1, count + 1, CHUNK):
            ids = range(start, min(count, start + CHUNK - 1) + 1)
            rows = [(i, f"p{i % patients:07d}", f"Message {i}: how are you today?") for i in ids]
            await conn.copy_records_to_table(
                "messages",
                records=[(i, p, "out", "sms", b, "queued", now, now) for i, p, b in rows],
                columns=["id", "patient_id", "direction", "channel", "body", "status",
                         "created_at", "updated_at"],
            )  # fmt: skip
            await conn.copy_records_to_table(
                "outbox",
                records=[(i, p, i, "sms", f"+1555{i % patients:07d}", b, "[]", 0, "pending", 0,
                          now, now) for i, p, b in rows],
                columns=["id", "patient_id", "message_id", "channel", "address", "body",
                         "choices", "priority", "status", "attempts", "next_attempt_at",
                         "created_at"],
            )  # fmt: skip
        await conn.execute("SELECT setval('messages_id_seq', $1)", count + 1)
        await conn.execute("SELECT setval('outbox_id_seq', $1)", count + 1)
        await conn.execute("ANALYZE")  # a bulk load: give the planner statistics now
    finally:
        await conn.close()
    return time.perf_counter() - started


async def rate(queued: int, send: int) -> dict[str, Any]:
    url, drop = await fresh_database("postgres", Path(tempfile.gettempdir()))
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    db = Database(url)
    try:
        await upgrade(db)
        load_s = await queue(dsn, queued)
        dispatcher = Dispatcher(db, {"sms": Instant()}, SystemClock())
        started = time.perf_counter()
        sent = 0
        while sent < min(send, queued):
            handled = await dispatcher.dispatch_once()
            if not handled:
                break
            sent += handled
        elapsed = time.perf_counter() - started
    finally:
        await db.close()
        await drop()
    return {"queued": queued, "sent": sent, "seconds": round(elapsed, 2),
            "per_s": round(sent / elapsed), "load_s": round(load_s, 1)}  # fmt: skip


async def run(shallow: int, deep: int, send: int) -> dict[str, Any]:
    configure("warning")
    first = await rate(shallow, send)
    second = await rate(deep, send)
    return {"shallow": first, "deep": second, "ratio": round(second["per_s"] / first["per_s"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shallow", type=int, default=3_000)
    parser.add_argument("--deep", type=int, default=1_000_000)
    parser.add_argument("--send", type=int, default=3_000, help="messages dispatched per run")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.shallow, args.deep, args.send)), indent=2))


if __name__ == "__main__":
    main()
