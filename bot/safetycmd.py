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
        "train", help="rebuild the second-opinion model (flows/safety/model.json) from the corpus"
    )
    tr.add_argument("--corpus", type=Path, default=None, help="labelled TSV (default: the corpus)")
    tr.add_argument(
        "--out", type=Path, default=None, help="weights file (default: the shipped one)"
    )
    tr.add_argument("--check", action="store_true", help="exit 1 if the weights file is stale")


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run `tandem safety eval|train`; eval exits 0 once scored, 2 on a bad file."""
    if args.safety_command == "train":
        return _train(args, out, err)
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


def _train(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from flows.safety.model import MODEL_FILE, dumps
    from flows.safety.training import DEFAULT_CORPUS, train_corpus

    corpus = args.corpus or DEFAULT_CORPUS
    target = args.out or MODEL_FILE
    try:
        text = dumps(train_corpus(load_corpus(corpus)))
    except (CorpusError, ValueError) as exc:
        print(f"tandem safety train: {exc}", file=err)
        return 2
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"tandem safety train: {target} is stale; run `tandem safety train`", file=err)
            return 1
        print(f"{target} is current", file=out)
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({len(text)} bytes) from {corpus}", file=out)
    return 0
