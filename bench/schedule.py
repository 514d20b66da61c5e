"""Check-in burst benchmark: N patients whose daily check-in is 09:00 local, spread over five time
zones, on PostgreSQL.

For each zone in turn the service's clock is shifted so that "now" is 09:00 there; we time how
long until every check-in of that zone is in the outbox, while a separate process posts try-it
webhooks at a steady rate and records their latency. The service runs in this process exactly as
`tandem serve` wires it (scheduler job, dispatcher, HTTP app), so its RSS is measured here.

    .venv/bin/python bench/schedule.py [--patients 100000] [--rate 20]

Targets: < 60 s per zone, webhook p99 < 100 ms during the burst, RSS < 200 MB and flat in N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import asyncpg
from aiohttp import web
from sqlalchemy import Table
from sqlalchemy.engine import make_url

from bench.common import free_port, fresh_database
from bot.app import create_app
from bot.channels.trychat import TryChannel
from bot.logs import configure as configure_logs
from bot.scheduling.timecalc import resolve_local
from bot.service import Tandem
from bot.settings import Settings
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Patient

ZONES = [
    "Australia/Sydney",
    "Asia/Kolkata",
    "Europe/Madrid",
    "America/New_York",
    "America/Los_Angeles",
]
DAY = date(2026, 3, 10)
CHUNK = 5000


class OffsetClock:
    """The real clock shifted by `offset`, so a chosen instant can be made "now"."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def rss_mb(pid: int | None = None) -> float:
    for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _defaults(table: Any, given: dict[str, Any]) -> dict[str, Any]:
    """A bulk row: our values, else the model's scalar default (other areas' columns)."""
    row = {}
    for column in table.columns:
        if column.name in given:
            row[column.name] = given[column.name]
        elif column.default is not None and column.default.is_scalar:
            row[column.name] = column.default.arg
        elif not column.nullable and column.server_default is None and not column.primary_key:
            raise RuntimeError(f"bench does not know a value for {table.name}.{column.name}")
    return row


def _patient_rows(
    n: int, now: datetime
) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    for i in range(n):
        zone = ZONES[i % len(ZONES)]
        pid = str(uuid.UUID(int=i + 1))
        patient = {
            "id": pid,
            "created_at": now,
            "locale": "en",
            "timezone": zone,
            "status": "active",
            "display_name": f"P{i}",
            "checkin_time": "09:00",
            "consent_given": True,
            "consent_at": now,
            "consent_method": "bench",
            "timezone_confirmed": True,
        }
        identity = {"patient_id": pid, "channel": "try", "address": f"bench-{i}", "created_at": now}
        schedule = {
            "patient_id": pid,
            "key": "checkin",
            "kind": "checkin",
            "payload": '{"flow": "checkin"}',
            "recurrence": "daily",
            "local_time": "09:00",
            "status": "active",
            "next_fire_at": resolve_local(DAY, dtime(9), zone),
            "attempts": 0,
            "missed": 0,
            "created_at": now,
            "updated_at": now,
        }
        yield patient, identity, schedule


async def seed(dsn: str, n: int) -> float:
    from storage.models import ChannelIdentity, ScheduleItem

    started = time.perf_counter()
    now = resolve_local(DAY, dtime(0), ZONES[0]) - timedelta(days=1)
    conn = await asyncpg.connect(dsn)
    try:
        rows = _patient_rows(n, now)
        while True:
            chunk = [c for c in (next(rows, None) for _ in range(CHUNK)) if c is not None]
            if not chunk:
                break
            for index, model in enumerate((Patient, ChannelIdentity, ScheduleItem)):
                table = model.__table__
                assert isinstance(table, Table)  # declared models map to one Table each
                records = [_defaults(table, c[index]) for c in chunk]
                columns = list(records[0])
                await conn.copy_records_to_table(
                    table.name,
                    records=[tuple(r[c] for c in columns) for r in records],
                    columns=columns,
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started


def _webhook_load(url: str, rate: float, stop: Any, out: Any, ready: Any = None) -> None:
    """Child process: post try-it messages at `rate`/s; report (sent_at, latency_s, status).
    `ready` (an Event) is set once the first answer is back, so a burst is never timed before
    the load is actually running."""

    async def main() -> None:
        samples: list[tuple[float, float, int]] = []
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as http:

            async def one(i: int) -> None:
                body = {"session": f"bench-session-{i % 200:06d}-{'0' * 20}", "text": "hello"}
                t0 = time.time()
                try:
                    async with http.post(url + "/try/api/messages", json=body) as resp:
                        await resp.read()
                        samples.append((t0, time.time() - t0, resp.status))
                        if ready is not None:
                            ready.set()
                except (aiohttp.ClientError, TimeoutError):
                    samples.append((t0, time.time() - t0, 599))

            tasks = set()
            i = 0
            next_at = time.monotonic()
            while not stop.is_set():
                task = asyncio.create_task(one(i))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                i += 1
                next_at += 1 / rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await asyncio.gather(*tasks, return_exceptions=True)
        out.put(samples)

    asyncio.run(main())


async def zone_count(conn: asyncpg.Connection, zone: str) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM outbox o JOIN patients p ON p.id = o.patient_id"
            " WHERE p.timezone = $1",
            zone,
        )
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    configure_logs("warning")
    url, drop = await fresh_database("postgres", Path(tempfile.gettempdir()))
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    report: dict[str, Any] = {"patients": args.patients, "zones": {}}
    try:
        db = Database(url)
        await upgrade(db)
        await db.close()
        report["seed_s"] = round(await seed(dsn, args.patients), 1)
        clock = OffsetClock()
        # Start just before the first zone's 09:00, so nothing is "missed while down".
        clock.offset = resolve_local(DAY, dtime(8, 59), ZONES[0]) - datetime.now(UTC)
        settings = Settings(
            database_url=url,
            try_channel="on",
            try_sessions_per_client=0,
            try_messages_per_minute=0,
            scheduler_interval_seconds=1.0,
        )
        tandem = Tandem(settings, clock=clock, channels={"try": TryChannel()})
        port = free_port()
        runner = web.AppRunner(create_app(tandem))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await tandem.start_background()
        ctx = mp.get_context("spawn")
        stop, out = ctx.Event(), ctx.Queue()
        loader = ctx.Process(
            target=_webhook_load, args=(f"http://127.0.0.1:{port}", args.rate, stop, out)
        )
        loader.start()
        await asyncio.sleep(3)  # the load's sessions enrol before the first burst
        report["rss_mb_before"] = round(rss_mb(), 1)
        monitor = await asyncpg.connect(dsn)
        windows = []
        peak = 0.0
        per_zone = args.patients // len(ZONES)
        for zone in ZONES:
            fire = resolve_local(DAY, dtime(9), zone)
            clock.offset = fire - datetime.now(UTC)
            start = time.time()
            count = 0
            while count < per_zone and time.time() - start < args.timeout:
                await asyncio.sleep(0.25)
                count = await zone_count(monitor, zone)
                peak = max(peak, rss_mb())
            elapsed = time.time() - start
            windows.append((start, start + elapsed))
            report["zones"][zone] = {
                "checkins": count,
                "expected": per_zone,
                "seconds": round(elapsed, 1),
            }
            print(f"{zone:22} {count:7} check-ins in the outbox after {elapsed:6.1f} s", flush=True)
        stop.set()
        samples = out.get(timeout=120)
        loader.join(timeout=30)
        await monitor.close()
        await tandem.stop_background()
        await runner.cleanup()
        await tandem.close()
        burst = sorted(lat for t0, lat, _ in samples if any(a <= t0 <= b for a, b in windows))
        errors = sum(1 for _, _, status in samples if status >= 400)
        report["rss_mb_peak"] = round(peak, 1)
        report["webhook"] = {
            "requests_in_burst": len(burst),
            "errors": errors,
            "p50_ms": round(1000 * statistics.median(burst), 1) if burst else None,
            "p99_ms": round(1000 * burst[min(len(burst) - 1, int(0.99 * len(burst)))], 1)
            if burst
            else None,
            "max_ms": round(1000 * burst[-1], 1) if burst else None,
        }
    finally:
        await drop()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument(
        "--rate", type=float, default=20.0, help="webhooks per second during the run"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="give up on a zone after this")
    args = parser.parse_args()
    if args.patients < len(ZONES):
        parser.error(f"--patients must be at least {len(ZONES)}")
    report = asyncio.run(run(args))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
