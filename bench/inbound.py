"""Inbound pipeline throughput: Tandem's full pipeline over HTTP (try-it channel) against a bare
aiohttp handler doing one INSERT per request, in the same run, on SQLite and PostgreSQL.

    .venv/bin/python bench/inbound.py [--clients 16] [--messages 100] [--backend both]

Each client is one patient talking through onboarding and check-ins, so every message is a real
engine step with persisted state, events and outbox rows (and the dispatcher delivering them).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Process, free_port, fresh_database, load, percentile, python

SCRIPT = ["hi", "yes", "Sam", "9am", "6", "a quiet day", "5", "skip", "7", "walked"]
TANDEM = str(Path(python()).with_name("tandem"))


def body(client: int, index: int) -> dict[str, Any]:
    return {
        "session": f"bench-session-{client:06d}-{'0' * 20}",
        "text": SCRIPT[index % len(SCRIPT)],
        "id": f"{index}",
    }


async def measure(
    backend: str, clients: int, messages: int, workdir: Path
) -> tuple[float, float, float]:
    results = []
    for kind in ("baseline", "tandem"):
        url, drop = await fresh_database(backend, workdir)
        port = free_port()
        if kind == "baseline":
            args = [python(), str(Path(__file__).with_name("baseline_server.py")), url, str(port)]
            env: dict[str, str] = {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        else:
            args = [TANDEM, "serve", "--port", str(port)]
            env = {
                "TANDEM_DATABASE_URL": url,
                "TANDEM_TRY_CHANNEL": "on",
                "TANDEM_TRY_SESSIONS_PER_CLIENT": "0",
                "TANDEM_TRY_MESSAGES_PER_MINUTE": "0",
                "TANDEM_LOG_LEVEL": "warning",
            }
        try:
            async with Process(args, env, port, "/readyz") as server:
                target = f"{server.url}/try/api/messages"
                await load(target, lambda c, i: body(c + 10_000, i), clients=clients, per_client=5)
                rate, latencies = await load(target, body, clients=clients, per_client=messages)
                results.append((rate, percentile(latencies, 0.99) * 1000))
        finally:
            await drop()
    (base_rate, _), (rate, p99) = results
    return base_rate, rate, p99


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--messages", type=int, default=100, help="messages per client")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as workdir:
        for backend in backends:
            base, tandem, p99 = await measure(backend, args.clients, args.messages, Path(workdir))
            print(
                f"{backend:9s} baseline (1 INSERT/request): {base:7.1f} msg/s | "
                f"tandem full pipeline: {tandem:7.1f} msg/s (p99 {p99:.0f} ms) | "
                f"ratio {tandem / base:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    asyncio.run(main())
