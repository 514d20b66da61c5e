"""Mermaid diagrams generated from flow definitions (never drawn by hand)."""

from __future__ import annotations

import re

from flows.compiler import CompiledFlow

_SHAPES = {
    "question": ('{{"', '"}}'),
    "wait": ('{{"', '"}}'),
    "branch": ('{"', '"}'),
    "end": ('(["', '"])'),
    "subflow": ('[["', '"]]'),
}


def _node(name: str) -> str:
    return "s_" + re.sub(r"\W", "_", name)


def mermaid(flow: CompiledFlow) -> str:
    lines = ["flowchart TD"]
    lines.append(f"    start((start)) --> {_node(flow.start)}")
    for name, step in flow.steps.items():
        left, right = _SHAPES.get(step.kind, ('["', '"]'))
        label = f"{name}<br/><i>{step.kind}</i>"
        lines.append(f"    {_node(name)}{left}{label}{right}")
    for source, label, dest in flow.edges():
        lines.append(f"    {_node(source)} -->|{label}| {_node(dest)}")
    for name, step in flow.steps.items():
        for sub in step.subflows():
            target = "flow_" + re.sub(r"\W", "_", sub)
            lines.append(f"    {_node(name)} -.->|runs| {target}[/{sub}/]")
    return "\n".join(lines) + "\n"
