"""Inbound pipeline throughput: Tandem's full pipeline over HTTP (try-it channel) against a bare
aiohttp handler doing one INSERT per request, in the same run, on SQLite and PostgreSQL. Rates
count processed messages (Tandem: the step committed with its replies in the outbox), not
acknowledgements.

    .venv/bin/python bench/inbound.py [--clients 16] [--messages 100] [--backend both]

Each client is one patient talking through onboarding and check-ins, so every message is a real
engine step with persisted state, events and outbox rows (and the dispatcher delivering them).
On PostgreSQL it also runs the web/worker split: a web-only server processing messages and one
`tandem worker` dispatching the replies. CPU ms per processed message is reported for every
process of each run (server, worker, PostgreSQL, the load client).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from bench.common import (
    CpuMeter,
    Process,
    Worker,
    free_port,
    fresh_database,
    load,
    percentile,
    python,
)
from storage.db import Database

SCRIPT = ["hi", "yes", "Sam", "9am", "6", "a quiet day", "5", "skip", "7", "walked"]
TANDEM = str(Path(python()).with_name("tandem"))


def body(client: int, index: int) -> dict[str, Any]:
    return {
        "session": f"bench-session-{client:06d}-{'0' * 20}",
        "text": SCRIPT[index % len(SCRIPT)],
        "id": f"{index}",
    }


# What counts as processed: the baseline's one INSERT; Tandem's inbound row marked processed,
# which commits together with its replies in the outbox.
PROCESSED = {
    "baseline": "SELECT count(*) FROM bench_received",
    "tandem": "SELECT count(*) FROM messages WHERE direction = 'in' AND status = 'processed'",
}
PROCESSED["split"] = PROCESSED["tandem"]


async def wait_count(db: Database, sql: str, target: int, timeout: float = 600) -> float:
    """Wait until `sql` counts `target`; returns the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while True:
        async with db.engine.connect() as conn:
            count = int((await conn.execute(text(sql))).scalar() or 0)
        if count >= target:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} of {target} processed")
        await asyncio.sleep(0.05)


@dataclass
class Side:
    rate: float  # processed messages per second
    p99_ms: float  # acknowledgement latency
    cpu_ms: dict[str, float]  # CPU per processed message: server, postgres, client


async def measure(backend: str, clients: int, messages: int, workdir: Path, kind: str) -> Side:
    """One side, counted when processed: "baseline", "tandem" (one process) or "split" (a
    web-only `tandem serve` and one `tandem worker`, which dispatches the replies)."""
    url, drop = await fresh_database(backend, workdir)
    port = free_port()
    env: dict[str, str] = {
        "TANDEM_DATABASE_URL": url,
        "TANDEM_TRY_CHANNEL": "on",
        "TANDEM_TRY_SESSIONS_PER_CLIENT": "0",
        "TANDEM_TRY_MESSAGES_PER_MINUTE": "0",
        "TANDEM_LOG_LEVEL": "warning",
    }
    if kind == "baseline":
        args = [python(), str(Path(__file__).with_name("baseline_server.py")), url, str(port)]
        env = {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    else:
        args = [TANDEM, "serve", "--port", str(port)]
    if kind == "split":
        env["TANDEM_BACKGROUND"] = "off"
    db = Database(url)
    workers: list[Worker] = []
    try:
        async with Process(args, env, port, "/readyz") as server:
            if kind == "split":
                workers.append(
                    Worker({**env, "TANDEM_BACKGROUND": "on", "TANDEM_LOG_LEVEL": "info"})
                )
                await workers[0].ready()
            target = f"{server.url}/try/api/messages"
            warm = clients * 5
            await load(target, lambda c, i: body(c + 10_000, i), clients=clients, per_client=5)
            await wait_count(db, PROCESSED[kind], warm)
            cpu = CpuMeter(server, workers)
            cpu.start()
            started = time.monotonic()
            _, latencies = await load(target, body, clients=clients, per_client=messages)
            done = await wait_count(db, PROCESSED[kind], warm + clients * messages)
            cpu.stop()
            rate = clients * messages / (done - started)
            p99 = percentile(latencies, 0.99) * 1000
            return Side(rate, p99, cpu.per_message_ms(clients * messages))
    finally:
        for worker in workers:
            worker.stop()
        await db.close()
        await drop()


async def run(backend: str, clients: int, messages: int) -> dict[str, Any]:
    kinds = ["baseline", "tandem"] + (["split"] if backend == "postgres" else [])
    with tempfile.TemporaryDirectory() as workdir:
        sides = {k: await measure(backend, clients, messages, Path(workdir), k) for k in kinds}
    base, tandem = sides["baseline"], sides["tandem"]
    report: dict[str, Any] = {
        "backend": backend,
        "baseline_per_s": round(base.rate, 1),
        "tandem_per_s": round(tandem.rate, 1),
        "tandem_ack_p99_ms": round(tandem.p99_ms),
        "ratio": round(tandem.rate / base.rate, 2),
        # Where the time goes: CPU ms per processed message in each process of the run.
        "baseline_cpu_ms": base.cpu_ms,
        "tandem_cpu_ms": tandem.cpu_ms,
    }
    if "split" in sides:
        split = sides["split"]
        report.update(
            split_per_s=round(split.rate, 1),
            split_ratio=round(split.rate / base.rate, 2),
            split_cpu_ms=split.cpu_ms,
        )
    return report


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--messages", type=int, default=100, help="messages per client")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        result = await run(backend, args.clients, args.messages)
        print(
            f"{backend:9s} baseline (1 INSERT/request): {result['baseline_per_s']:7.1f} msg/s | "
            f"tandem full pipeline, processed: {result['tandem_per_s']:7.1f} msg/s "
            f"(ack p99 {result['tandem_ack_p99_ms']} ms) | ratio {result['ratio']:.2f}",
            flush=True,
        )
        if "split_ratio" in result:
            print(f"{'':9s} {split_line(result)}", flush=True)
        print(f"{'':9s} CPU ms per processed message: {cpu_line(result)}", flush=True)


def split_line(result: dict[str, Any]) -> str:
    return (
        f"web + worker (dispatch in the worker): {result['split_per_s']} msg/s, "
        f"ratio {result['split_ratio']} (target >= 0.8)"
    )


def cpu_line(result: dict[str, Any]) -> str:
    return " | ".join(
        f"{side} " + ", ".join(f"{k} {v}" for k, v in result[f"{side}_cpu_ms"].items())
        for side in ("baseline", "tandem", "split")
        if f"{side}_cpu_ms" in result
    )


if __name__ == "__main__":
    asyncio.run(main())
