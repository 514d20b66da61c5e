"""Check-in bursts across worker processes: D check-ins due at the same instant among E enrolled
patients, fired by 1, 2 and 4 `tandem worker` processes behind a web-only `tandem serve` that
takes try-it webhooks at a steady rate meanwhile (PostgreSQL).

    .venv/bin/python bench/checkins.py [--enrolled 100000] [--due 20000] [--workers 1 2 4]

The due rows are armed with one UPDATE once every process is up; the clock stops when all D
check-ins are in the outbox. Reported per run: seconds, check-ins/s, webhook p50/p99 during the
burst, and peak RSS of each process. Targets: 20,000 in 30 s, p99 < 100 ms, RSS < 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy.engine import make_url

from bench.common import Process, Worker, free_port, fresh_database, python, rss_mb
from bench.schedule import _defaults, _webhook_load
from storage.db import Database
from storage.migrate import upgrade
from storage.models import ChannelIdentity, Patient, ScheduleItem

TANDEM = str(Path(python()).with_name("tandem"))
CHUNK = 10_000
RESET = (
    "TRUNCATE outbox, messages, events, flow_runs CASCADE;"
    " UPDATE schedules SET next_fire_at = now() + interval '1 day', last_fired_at = NULL,"
    " missed = 0, attempts = 0"
)


async def seed(dsn: str, enrolled: int) -> float:
    started = time.perf_counter()
    now = datetime.now(UTC)
    later = now + timedelta(days=1)
    conn = await asyncpg.connect(dsn)
    try:
        for start in range(0, enrolled, CHUNK):
            ids = [str(uuid.UUID(int=i + 1)) for i in range(start, min(enrolled, start + CHUNK))]
            tables: list[tuple[Any, list[dict[str, Any]]]] = [
                (Patient, [{"id": p, "created_at": now, "locale": "en", "timezone": "UTC",
                            "status": "active", "display_name": "P", "checkin_time": "09:00",
                            "consent_given": True, "consent_at": now, "consent_method": "bench",
                            "timezone_confirmed": True} for p in ids]),
                (ChannelIdentity, [{"patient_id": p, "channel": "try", "address": f"b-{p}",
                                    "created_at": now} for p in ids]),
                (ScheduleItem, [{"patient_id": p, "key": "checkin", "kind": "checkin",
                                 "payload": '{"flow": "checkin"}', "recurrence": "daily",
                                 "local_time": "09:00", "status": "active", "next_fire_at": later,
                                 "attempts": 0, "missed": 0, "created_at": now,
                                 "updated_at": now} for p in ids]
                              # An onboarded patient's measure cadence row, not due today.
                              + [{"patient_id": p, "key": "measures", "kind": "measures",
                                  "payload": '{"flow": "measure_checkup"}', "recurrence": "every",
                                  "local_time": "09:00", "status": "active",
                                  "next_fire_at": later + timedelta(days=13), "attempts": 0,
                                  "missed": 0, "created_at": now, "updated_at": now}
                                 for p in ids]),
            ]  # fmt: skip
            for model, given in tables:
                records = [_defaults(model.__table__, row) for row in given]
                columns = list(records[0])
                await conn.copy_records_to_table(
                    model.__table__.name,
                    records=[tuple(r[c] for c in columns) for r in records],
                    columns=columns,
                )
        await conn.execute("ANALYZE")  # a bulk load: give the planner statistics now
    finally:
        await conn.close()
    return time.perf_counter() - started


COUNT_DONE = """
SELECT count(DISTINCT o.patient_id) FROM outbox o
WHERE EXISTS (SELECT 1 FROM due_ids d WHERE d.patient_id = o.patient_id)
"""


async def burst(
    url: str, dsn: str, due: int, workers: int, args: argparse.Namespace
) -> dict[str, Any]:
    env = {
        **dict(__import__("os").environ),
        "TANDEM_DATABASE_URL": url,
        "TANDEM_TRY_CHANNEL": "on",
        # 200 load sessions come from one address: the per-client abuse limits would answer 429.
        "TANDEM_TRY_SESSIONS_PER_CLIENT": "0",
        "TANDEM_TRY_MESSAGES_PER_MINUTE": "0",
        "TANDEM_LOG_LEVEL": "info",
        "TANDEM_QUIET_HOURS_START": "00:00",
        "TANDEM_QUIET_HOURS_END": "00:00",
        "TANDEM_SCHEDULER_INTERVAL_SECONDS": "1",
        "TANDEM_SCHEDULE_BATCH_SIZE": str(args.batch),
        "TANDEM_DB_POOL_SIZE": "10",
    }
    monitor = await asyncpg.connect(dsn)
    await monitor.execute(RESET)
    # The due patients in an indexed table of the monitor's own: counting them in the outbox
    # with `= ANY($1)` over 20,000 ids took 270 ms of PostgreSQL's CPU per poll, four polls a
    # second, a core's worth taken from the workers it was measuring.
    await monitor.execute("CREATE TEMP TABLE due_ids (patient_id varchar PRIMARY KEY)")
    await monitor.copy_records_to_table(
        "due_ids", records=[(str(uuid.UUID(int=i + 1)),) for i in range(due)]
    )
    await monitor.execute("ANALYZE due_ids")
    port = free_port()
    web_env = {**env, "TANDEM_BACKGROUND": "off", "TANDEM_LOG_LEVEL": "warning"}
    async with Process([TANDEM, "serve", "--port", str(port), "--no-migrate"], web_env, port,
                       "/readyz") as web:  # fmt: skip
        procs = [Worker({**env, "TANDEM_LOG_LEVEL": "info"}) for _ in range(workers)]
        ctx = mp.get_context("spawn")
        stop, out, loading = ctx.Event(), ctx.Queue(), ctx.Event()
        loader = ctx.Process(target=_webhook_load, args=(web.url, args.rate, stop, out, loading))
        try:
            for proc in procs:
                await proc.ready()
            loader.start()
            if not await asyncio.to_thread(loading.wait, 120):
                raise RuntimeError("the webhook load never got an answer")
            await asyncio.sleep(5)  # the load's sessions enrol; latency before the burst
            peaks = {"web": 0.0, **{f"worker{i}": 0.0 for i in range(workers)}}
            ids = [str(uuid.UUID(int=i + 1)) for i in range(due)]
            started = time.time()
            await monitor.execute(
                "UPDATE schedules SET next_fire_at = now()"
                " WHERE key = 'checkin' AND patient_id = ANY($1)",
                ids,
            )
            count = 0
            while count < due and time.time() - started < args.timeout:
                await asyncio.sleep(0.25)
                count = int(await monitor.fetchval(COUNT_DONE))
                peaks["web"] = max(peaks["web"], rss_mb(web.pids()[0]))
                for i, proc in enumerate(procs):
                    peaks[f"worker{i}"] = max(peaks[f"worker{i}"], rss_mb(proc.proc.pid))
            elapsed = time.time() - started
            stop.set()
            samples = out.get(timeout=120)
            loader.join(timeout=30)
        finally:
            stop.set()
            for proc in procs:
                proc.stop()
    await monitor.close()
    window = sorted(lat for t0, lat, _ in samples if started <= t0 <= started + elapsed)
    errors = collections.Counter(str(status) for _, _, status in samples if status >= 400)
    quiet = sorted(lat for t0, lat, _ in samples if t0 < started)
    return {
        "workers": workers,
        "due": due,
        "in_outbox": count,
        "seconds": round(elapsed, 1),
        "per_s": round(count / elapsed, 1),
        "webhook_p50_ms": round(1000 * statistics.median(window), 1) if window else None,
        "webhook_p99_ms": round(1000 * window[min(len(window) - 1, int(0.99 * len(window)))], 1)
        if window
        else None,
        "webhook_errors": sum(errors.values()),
        "webhook_errors_by_status": dict(errors),
        "webhook_p99_ms_before_burst": round(1000 * quiet[int(0.99 * (len(quiet) - 1))], 1)
        if quiet
        else None,
        "rss_mb_peak": {k: round(v) for k, v in peaks.items()},
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    url, drop = await fresh_database("postgres", Path(tempfile.gettempdir()))
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    report: dict[str, Any] = {"enrolled": args.enrolled, "due": args.due, "runs": []}
    try:
        db = Database(url)
        await upgrade(db)
        await db.close()
        report["seed_s"] = round(await seed(dsn, args.enrolled), 1)
        for workers in args.workers:
            result = await burst(url, dsn, args.due, workers, args)
            print(json.dumps(result), file=sys.stderr, flush=True)
            report["runs"].append(result)
    finally:
        await drop()
    return report


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrolled", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch", type=int, default=50, help="TANDEM_SCHEDULE_BATCH_SIZE")
    parser.add_argument("--rate", type=float, default=5.0, help="webhooks/s during the burst")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up on a run after")
    return parser


def main() -> None:
    args = parser().parse_args()
    if args.due > args.enrolled:
        parser().error("--due cannot exceed --enrolled")
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
