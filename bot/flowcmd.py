"""`tandem flows check|list|diagram|docs`."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.channels.sms_text import SMS_MAX_CHARS, count_segments, normalize_gsm
from flows.check import check_library
from flows.compiler import FlowError, Problem
from flows.diagram import mermaid
from flows.library import PACKAGE_DIR, FlowLibrary
from flows.schema import schema_text

MAX_SEGMENTS_BEFORE_WARNING = 2
DOCS_DIR = Path(__file__).parents[1] / "docs"


def _text_location(flow_path: str, flow_id: str, locale: str, key: str) -> tuple[str, int]:
    """The content file and line where a text is written (its flow file when not found)."""
    common = key.startswith("common.")
    name = "common" if common else flow_id
    bare = key.removeprefix("common.")
    path = Path(flow_path).parents[1] / "content" / locale / f"{name}.yaml"
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith((f"{bare}:", f'"{bare}":')):
                return str(path), number
    except OSError:
        pass
    return flow_path, 1


def sms_problems(library: FlowLibrary) -> list[Problem]:
    """Texts too long for SMS: over 2 segments is a warning, over 1600 characters an error."""
    problems = []
    for flow in library.current.values():
        for locale, texts in flow.source.texts.items():
            for key, text in texts.items():
                if key.startswith("common.") and flow.id != min(library.current):
                    continue  # report shared texts once
                body = normalize_gsm(text)
                where, line = _text_location(flow.source.path, flow.id, locale, key)
                if len(body) > SMS_MAX_CHARS:
                    problems.append(
                        Problem(
                            where,
                            line,
                            f"text {key!r} ({locale}) is {len(body)} "
                            f"characters, over the SMS maximum of {SMS_MAX_CHARS}",
                        )
                    )
                    continue
                encoding, segments = count_segments(body)
                if segments > MAX_SEGMENTS_BEFORE_WARNING:
                    problems.append(
                        Problem(
                            where,
                            line,
                            f"text {key!r} ({locale}) needs {segments} SMS segments ({encoding})",
                            "warning",
                        )
                    )
    return problems


def diagram_doc(library: FlowLibrary, flow_id: str) -> str:
    """docs/flows/<id>.md: the flow's description and its generated Mermaid diagram."""
    flow = library.current[flow_id]
    return (
        f"# {flow.id}\n\n{flow.description}\n\n"
        f"Generated from `flows/definitions/{flow.id}.yaml` by `tandem flows docs` "
        "(do not edit).\n\n"
        f"```mermaid\n{mermaid(flow)}```\n"
    )


def write_docs(library: FlowLibrary, docs: Path = DOCS_DIR) -> list[Path]:
    """Rewrite docs/flow.schema.json and docs/flows/*.md; return the files that changed."""
    wanted = {docs / "flow.schema.json": schema_text()}
    wanted |= {docs / "flows" / f"{fid}.md": diagram_doc(library, fid) for fid in library.current}
    changed = []
    (docs / "flows").mkdir(parents=True, exist_ok=True)
    for stale in (docs / "flows").glob("*.md"):
        if stale not in wanted:
            stale.unlink()
            changed.append(stale)
    for path, text in wanted.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def run_flows_command(command: str, flow_id: str | None, root: Path = PACKAGE_DIR) -> int:
    try:
        library = FlowLibrary.load(root)
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
    if command == "docs":
        for path in write_docs(library):
            print(f"updated {path}")
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
