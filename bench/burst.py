"""A burst of SMS: N patients texting M messages each over signed Twilio webhooks, against the
fake Twilio API, for Tandem (`tandem serve`) and for bench/bare_sms.py in the same run.

    .venv/bin/python bench/burst.py [--patients 200] [--messages 3] [--backend postgres]

Each patient sends their messages one after another, as a phone does; a webhook without a 200
within 15 s (Twilio's limit) or with an error is posted again, and counted. Done: every inbound
message processed and every reply sent (Tandem), or every reply received by the fake (bare).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from sqlalchemy import text

from bench.common import Process, Worker, free_port, fresh_database, percentile, python, rss_mb
from storage.db import Database
from tests.fakes import twilio as tw
from tests.fakes.twilio import FakeTwilio, inbound_sms_params, signed_webhook_headers

SCRIPT = ["hi", "yes", "Sam", "9am", "7"]
TANDEM = str(Path(python()).with_name("tandem"))
TANDEM_DONE = (
    "SELECT (SELECT count(*) FROM messages WHERE direction = 'in' AND status = 'processed')"
    " , (SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending'))"
)


async def _send_all(url: str, patients: int, messages: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    retries = 0
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
    ) as http:

        async def patient(n: int) -> None:
            nonlocal retries
            for i in range(messages):
                params = inbound_sms_params(f"+1555{n:07d}", SCRIPT[i % len(SCRIPT)])
                while True:
                    started = time.perf_counter()
                    try:
                        headers = signed_webhook_headers(url, params)
                        async with http.post(url, data=urlencode(params), headers=headers) as r:
                            await r.read()
                            ok = r.status == 200
                    except (aiohttp.ClientError, TimeoutError):
                        ok = False
                    latencies.append(time.perf_counter() - started)
                    if ok:
                        break
                    retries += 1

        await asyncio.gather(*(patient(n) for n in range(patients)))
    return latencies, retries


async def _tandem_done(db: Database, expected: int) -> bool:
    async with db.engine.connect() as conn:
        processed, unsent = (await conn.execute(text(TANDEM_DONE))).one()
    return int(processed) >= expected and int(unsent) == 0


async def one(
    kind: str, backend: str, patients: int, messages: int, tandem: str = TANDEM
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        url, drop = await fresh_database(backend, Path(workdir))
        db = Database(url)
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        workers: list[Worker] = []
        try:
            async with FakeTwilio() as fake:
                if kind == "bare":
                    root = str(Path(__file__).resolve().parents[1])
                    args = [python(), str(Path(__file__).with_name("bare_sms.py")), url, str(port)]
                    args += [public, fake.url]
                    env = {"PYTHONPATH": root}
                else:
                    args = [tandem, "serve", "--port", str(port)]
                    env = {
                        "TANDEM_DATABASE_URL": url,
                        "TANDEM_PUBLIC_URL": public,
                        "TANDEM_TRY_CHANNEL": "off",
                        "TANDEM_TWILIO_ACCOUNT_SID": tw.ACCOUNT_SID,
                        "TANDEM_TWILIO_AUTH_TOKEN": tw.AUTH_TOKEN,
                        "TANDEM_TWILIO_FROM_NUMBER": "+15005550006",
                        "TANDEM_TWILIO_API_URL": fake.url,
                        "TANDEM_TWILIO_RATE": "0",
                        "TANDEM_LOG_LEVEL": "warning",
                    }
                if kind == "split":
                    env["TANDEM_BACKGROUND"] = "off"
                async with Process(args, env, port, "/readyz") as server:
                    if kind == "split":  # a web-only server and one worker dispatching
                        workers.append(
                            Worker({**env, "TANDEM_BACKGROUND": "on", "TANDEM_LOG_LEVEL": "info"})
                        )
                        await workers[0].ready()
                    expected = patients * messages
                    started = time.monotonic()
                    latencies, retries = await _send_all(
                        public + "/webhooks/twilio/sms", patients, messages
                    )
                    peak = rss_mb(server.pids()[0])
                    deadline = started + 600
                    while time.monotonic() < deadline:
                        if kind == "bare" and len(fake.messages) >= expected:
                            break
                        if kind != "bare" and await _tandem_done(db, expected):
                            break
                        await asyncio.sleep(0.05)
                    total = time.monotonic() - started
        finally:
            for worker in workers:
                worker.stop()
            await db.close()
            await drop()
    return {
        "total_s": round(total, 1),
        "webhook_p50_ms": round(percentile(latencies, 0.5) * 1000),
        "webhook_p99_ms": round(percentile(latencies, 0.99) * 1000),
        "retries": retries,
        "rss_mb": round(peak),
    }


async def run(backend: str, patients: int, messages: int, binary: str = TANDEM) -> dict[str, Any]:
    bare = await one("bare", backend, patients, messages)
    tandem = await one("tandem", backend, patients, messages, binary)
    split = await one("split", backend, patients, messages, binary)
    return {
        "backend": backend,
        "patients": patients,
        "messages_each": messages,
        "bare": bare,
        "tandem": tandem,
        "total_ratio": round(tandem["total_s"] / max(bare["total_s"], 0.001), 1),
        "p99_ratio": round(tandem["webhook_p99_ms"] / max(bare["webhook_p99_ms"], 1), 1),
        # A web-only server (it stores, acknowledges and runs the step) and one `tandem worker`
        # (it sends the replies).
        "split": split,
        "split_total_ratio": round(split["total_s"] / max(bare["total_s"], 0.001), 1),
        "split_p99_ratio": round(split["webhook_p99_ms"] / max(bare["webhook_p99_ms"], 1), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--messages", type=int, default=3, help="messages per patient")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--tandem", default=TANDEM, help="the tandem executable (A/B runs)")
    args = parser.parse_args()
    report = asyncio.run(run(args.backend, args.patients, args.messages, args.tandem))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
