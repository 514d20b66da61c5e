"""Risk detection speed: assess() runs on every inbound message, so it must stay cheap.

    .venv/bin/python bench/safety_detect.py [--repeat 5]

Prints the import time (lexicons compiled once per process), then per-message time for typical
check-in replies, for disclosures, and over the whole corpus (best of --repeat runs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "flows" / "safety" / "corpus.tsv"
TYPICAL = [
    "hey coach, I had a rough day at work today and my sleep has been bad",
    "hoy me fue mejor, salí a caminar con mi hermana",
    "YES",
    "I did my breathing exercise twice, felt a bit calmer after",
    "7",
    "walked the dog and called my sister, felt ok",
]
DISCLOSURES = [
    "i want to kill myself tonight, i have the pills ready",
    "me quiero morir, ya no aguanto más",
    "im 13 and my dad hits me",
    "i w a n t t o d i e",
]


def _per_message(messages: list[str], repeat: int) -> float:
    from flows.safety.detect import assess

    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for message in messages:
            assess(message)
        best = min(best, time.perf_counter() - start)
    return best / len(messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    import flows.safety.detect  # noqa: F401

    print(f"import (compile lexicons): {1000 * (time.perf_counter() - start):.0f} ms")
    corpus = [
        line.split("\t")[1]
        for line in CORPUS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name, messages in (("typical", TYPICAL * 50), ("disclosures", DISCLOSURES * 50)):
        print(f"{name:<12} {1000 * _per_message(messages, args.repeat):.3f} ms/message")
    print(
        f"{'corpus':<12} {1000 * _per_message(corpus, args.repeat):.3f} ms/message "
        f"({len(corpus)} messages)"
    )


if __name__ == "__main__":
    main()
