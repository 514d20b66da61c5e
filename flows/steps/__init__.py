"""Step types, one module each, registered by the name used as `type:` in flow YAML."""

from flows.steps import (
    actions,
    assign,
    branch,
    choose,
    clock,
    end,
    measure,
    message,
    question,
    schedule_at,
    subflow,
    wait,
)
from flows.steps.base import REGISTRY, Step

__all__ = [
    "REGISTRY",
    "Step",
    "actions",
    "assign",
    "branch",
    "choose",
    "clock",
    "end",
    "measure",
    "message",
    "question",
    "schedule_at",
    "subflow",
    "wait",
]
