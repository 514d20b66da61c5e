"""`tandem study check FILE`: validate a study file without starting anything."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.study.config import Study, StudyFileError, load_study


def add_commands(sub: Any) -> None:
    study = sub.add_parser("study", help="research study commands (TANDEM_STUDY_FILE)")
    study_sub = study.add_subparsers(dest="study_command", required=True)
    check = study_sub.add_parser("check", help="validate a study file; print a summary")
    check.add_argument("file", type=Path)


def summary(study: Study) -> list[str]:
    arms = ", ".join(f"{a.id} x{a.ratio}" for a in study.arms)
    design = study.randomization
    strata = ", ".join(design.strata) or "none"
    lines = [
        f"study {study.id}: arms {arms}; blocks of {design.block_size}, strata: {strata}",
    ]
    for point in study.decision_points:
        actions = ", ".join(f"{a.id} {a.probability:g}" for a in point.actions)
        source = f"policy {point.policy}" if point.policy else "fixed table"
        lines.append(
            f"decision point {point.id}: {' '.join(point.local_times)} for {point.days} days, "
            f"{len(point.local_times) * point.days} decisions per participant; {actions} "
            f"({source})"
        )
    return lines


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Exit status: 0 valid, 1 invalid (every problem printed as file:line: problem)."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        study = load_study(args.file)
    except StudyFileError as exc:
        for line in str(exc).splitlines():
            print(line, file=err)
        return 1
    for line in summary(study):
        print(line, file=out)
    return 0
