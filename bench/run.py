"""Every benchmark in one run, side by side (PostgreSQL; `make bench`).

    .venv/bin/python bench/run.py [--enrolled N --due N] [--deep N] [--json FILE]

1. Inbound: Tandem's full pipeline against a bare one-INSERT handler, counting processed messages.
2. Burst: 200 patients x 3 signed Twilio webhooks, Tandem against a bare SMS server.
3. Check-in bursts with 1, 2 and 4 worker processes behind a web-only server under webhook load.
4. Dispatch rate with 3,000 and with 1,000,000 queued.
RSS per process is reported by 2 and 3. The defaults are the issue's full sizes (100,000
enrolled, 20,000 due at once, 1,000,000 queued) and finish in under 10 minutes on a 2-core
machine; flags scale them up or down.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import burst, checkins, dispatch, inbound


def summary(report: dict[str, Any]) -> list[str]:
    lines = []
    if (i := report.get("inbound")) is not None:
        lines.append(
            f"inbound   processed/s: tandem {i['tandem_per_s']} vs bare {i['baseline_per_s']}"
            f"  ratio {i['ratio']} (target >= 0.5)"
        )
        if "split_ratio" in i:
            lines.append(f"          {inbound.split_line(i)}")
        lines.append(f"          CPU ms per processed message: {inbound.cpu_line(i)}")
    if (b := report.get("burst")) is not None:
        t, s = b["tandem"], b["bare"]
        lines.append(
            f"burst     {b['patients']}x{b['messages_each']}: tandem {t['total_s']} s p50 "
            f"{t['webhook_p50_ms']} ms p99 {t['webhook_p99_ms']} ms retries {t['retries']} | "
            f"bare {s['total_s']} s p50 {s['webhook_p50_ms']} ms p99 {s['webhook_p99_ms']} ms | "
            f"total x{b['total_ratio']} (target <= 4), p99 x{b['p99_ratio']} (target <= 2)"
        )
        if (sp := b.get("split")) is not None:
            lines.append(
                f"          web + worker: {sp['total_s']} s p50 {sp['webhook_p50_ms']} ms p99 "
                f"{sp['webhook_p99_ms']} ms: total x{b['split_total_ratio']}, "
                f"p99 x{b['split_p99_ratio']}"
            )
    if (c := report.get("checkins")) is not None:
        for run in c["runs"]:
            lines.append(
                f"check-ins {run['in_outbox']}/{run['due']} due of {c['enrolled']} enrolled, "
                f"{run['workers']} worker(s): {run['seconds']} s ({run['per_s']}/s), webhook "
                f"p99 {run['webhook_p99_ms']} ms, errors {run['webhook_errors']}, RSS MB "
                f"{run['rss_mb_peak']}"
            )
    if (d := report.get("dispatch")) is not None:
        lines.append(
            f"dispatch  {d['shallow']['per_s']} msg/s with {d['shallow']['queued']} queued, "
            f"{d['deep']['per_s']} msg/s with {d['deep']['queued']} queued: ratio {d['ratio']} "
            "(target >= 0.8)"
        )
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="inbound: concurrent patients")
    parser.add_argument("--messages", type=int, default=30, help="inbound: messages per patient")
    parser.add_argument("--patients", type=int, default=200, help="burst: patients")
    parser.add_argument("--enrolled", type=int, default=100_000, help="check-ins: enrolled")
    parser.add_argument("--due", type=int, default=20_000, help="check-ins: due at once")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--deep", type=int, default=1_000_000, help="dispatch: deep queue")
    parser.add_argument("--only", nargs="+", choices=["inbound", "burst", "checkins", "dispatch"])
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    only = set(args.only or ["inbound", "burst", "checkins", "dispatch"])
    report: dict[str, Any] = {}
    started = time.monotonic()
    if "inbound" in only:
        report["inbound"] = await inbound.run("postgres", args.clients, args.messages)
        print("\n".join(summary(report)), flush=True)
    if "burst" in only:
        report["burst"] = await burst.run("postgres", args.patients, 3)
        print("\n".join(summary({"burst": report["burst"]})), flush=True)
    if "checkins" in only:
        options = checkins.parser().parse_args(
            ["--enrolled", str(args.enrolled), "--due", str(args.due), "--workers"]
            + [str(w) for w in args.workers]
        )
        report["checkins"] = await checkins.run(options)
    if "dispatch" in only:
        report["dispatch"] = await dispatch.run(3_000, args.deep, 3_000)
    report["elapsed_s"] = round(time.monotonic() - started)
    print("\n== side by side ==", *summary(report), f"(run took {report['elapsed_s']} s)", sep="\n")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
