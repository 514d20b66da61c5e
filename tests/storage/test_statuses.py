"""Statuses are spelled once, in storage/statuses.py: no bare status string is compared with or
written to a status column anywhere in bot/ or storage/."""

from __future__ import annotations

import ast
from pathlib import Path

from storage.statuses import OutboundStatus, OutboxStatus, ScheduleStatus

ROOT = Path(__file__).parents[2]


def _is_status(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in ("status", "previous_status")


def _literal(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _bare(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and _is_status(node.left):
            lines += [node.lineno for c in node.comparators if _literal(c)]
        elif isinstance(node, ast.keyword) and node.arg == "status" and _literal(node.value):
            lines.append(node.value.lineno)
        elif isinstance(node, ast.Assign) and any(_is_status(t) for t in node.targets):
            lines += [node.lineno] if _literal(node.value) else []
    return lines


def test_no_bare_status_strings() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in ("bot", "storage")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in _bare(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []


def test_one_spelling_for_cancelled() -> None:
    spelled = {str(OutboxStatus.CANCELLED), str(ScheduleStatus.CANCELLED)}
    assert spelled == {"cancelled"}
    assert "canceled" not in {s.value for s in OutboundStatus}
