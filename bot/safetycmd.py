"""`tandem safety eval FILE.tsv`: score the risk detector on a clinic's own phrase list."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from flows.safety.evaluate import CorpusError, evaluate, format_report, load_corpus


def add_commands(sub: Any) -> None:
    safety = sub.add_parser("safety", help="risk detection tools")
    safety_sub = safety.add_subparsers(dest="safety_command", required=True)
    ev = safety_sub.add_parser(
        "eval",
        help="score detection on a label<TAB>text file (labels: risk, concern, human, safe)",
    )
    ev.add_argument("file", type=Path, help="UTF-8 file, one 'label<TAB>text' per line")
    ev.add_argument("--json", action="store_true", help="print the figures as JSON")
    ev.add_argument("--locale", default="en", help="patient locale to assess with (default en)")
    tr = safety_sub.add_parser(
        "train", help="fit the statistical second opinion on tests/flows/safety (dev only)"
    )
    tr.add_argument(
        "--check", action="store_true", help="only check that model.json matches the data"
    )


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run `tandem safety eval`: 0 once scored (whatever the figures), 2 on a bad file."""
    if args.safety_command == "train":
        from bot.safetytrain import run as train

        return train(args.check, out, err)
    try:
        cases = load_corpus(args.file)
    except CorpusError as exc:
        print(f"tandem safety eval: {exc}", file=err)
        return 2
    report = evaluate(cases, args.locale)
    if args.json:
        json.dump(report, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write(format_report(report) + "\n")
    return 0
