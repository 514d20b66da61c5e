"""`tandem flows check|list|diagram`."""

from __future__ import annotations

import sys

from bot.channels.sms_text import SMS_MAX_CHARS, count_segments, normalize_gsm
from flows.check import check_library
from flows.compiler import FlowError, Problem
from flows.diagram import mermaid
from flows.library import FlowLibrary

MAX_SEGMENTS_BEFORE_WARNING = 2


def sms_problems(library: FlowLibrary) -> list[Problem]:
    """Texts too long for SMS: over 2 segments is a warning, over 1600 characters an error."""
    problems = []
    for flow in library.current.values():
        for locale, texts in flow.source.texts.items():
            for key, text in texts.items():
                if key.startswith("common.") and flow.id != min(library.current):
                    continue  # report shared texts once
                body = normalize_gsm(text)
                if len(body) > SMS_MAX_CHARS:
                    problems.append(
                        Problem(
                            flow.source.path,
                            1,
                            f"text {key!r} ({locale}) is {len(body)} "
                            f"characters, over the SMS maximum of {SMS_MAX_CHARS}",
                        )
                    )
                    continue
                encoding, segments = count_segments(body)
                if segments > MAX_SEGMENTS_BEFORE_WARNING:
                    problems.append(
                        Problem(
                            flow.source.path,
                            1,
                            f"text {key!r} ({locale}) needs {segments} SMS segments ({encoding})",
                            "warning",
                        )
                    )
    return problems


def run_flows_command(command: str, flow_id: str | None) -> int:
    try:
        library = FlowLibrary.load()
    except FlowError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} error(s)", file=sys.stderr)
        return 1
    if command == "list":
        for flow in sorted(library.current.values(), key=lambda f: f.id):
            print(f"{flow.id} {flow.version}")
        return 0
    if command == "diagram":
        if flow_id not in library.current:
            known = ", ".join(sorted(library.current))
            print(f"tandem: unknown flow {flow_id!r} (known: {known})", file=sys.stderr)
            return 2
        print(mermaid(library.current[flow_id]), end="")
        return 0
    problems = check_library(library) + sms_problems(library)
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        print(problem, file=sys.stderr if problem.severity == "error" else sys.stdout)
    print(
        f"{len(library.current)} flows checked: {len(errors)} error(s), "
        f"{len(problems) - len(errors)} warning(s)"
    )
    return 1 if errors else 0
