"""Policy hooks the study tests name in their files (`tests.bot.study.policies:...`)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.study.policy import PolicyContext

CALLS: list[PolicyContext] = []


def greedy(context: PolicyContext) -> Mapping[str, float]:
    """Always prompt (clipped by the file's band); remembers what it was given."""
    CALLS.append(context)
    return {action: (1.0 if action != "none" else 0.0) for action in context.actions}


# The study reads a hook's version with getattr; mypy has no way to declare a function attribute.
greedy.version = "greedy-1"  # type: ignore[attr-defined]


def broken(context: PolicyContext) -> Mapping[str, float]:
    return {"none": 2.0}
