"""Action probabilities (the file's fixed table or a policy hook) and the seeded draw.

The draw is replayable from the recorded row alone: `u = random.Random(int(seed)).random()`, and
the action is the first whose cumulative probability (in the order of the recorded
`probabilities`, which is the file's action order) exceeds `u`.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog

from bot.study.config import DecisionPoint, load_policy

log = structlog.get_logger("tandem.study")


@dataclass(frozen=True)
class PolicyContext:
    """What a policy hook may use to choose probabilities for one decision."""

    study_id: str
    decision_point: str
    participant_id: str
    arm: str
    decision_index: int
    decided_utc: datetime
    decided_local: str
    timezone: str
    actions: tuple[str, ...]
    prior: Mapping[str, float]  # the file's fixed table
    # This participant's earlier decisions at this point: (action or None, proximal outcome).
    history: tuple[tuple[str | None, float | None], ...]


Policy = Callable[[PolicyContext], Mapping[str, float]]
__all__ = ["Policy", "PolicyContext", "draw", "load_policy", "probabilities", "stream_seed"]


def fixed_table(point: DecisionPoint) -> dict[str, float]:
    return {action.id: float(action.probability or 0.0) for action in point.actions}


def fixed_version(point: DecisionPoint) -> str:
    digest = hashlib.sha256(json.dumps(fixed_table(point), sort_keys=True).encode()).hexdigest()
    return f"fixed:{digest[:12]}"


def clip(probabilities: Mapping[str, float], low: float, high: float) -> dict[str, float]:
    """Probabilities held in [low, high] and summing to 1 (the band is checked feasible when the
    file is loaded): clip, then share the excess or shortfall among those with room."""
    values = {k: min(max(v, low), high) for k, v in probabilities.items()}
    for _ in range(len(values) + 1):
        gap = 1.0 - sum(values.values())
        if abs(gap) < 1e-12:
            break
        room = [k for k, v in values.items() if (v < high if gap > 0 else v > low)]
        share = gap / len(room)
        for key in room:
            values[key] = min(max(values[key] + share, low), high)
    return values


def checked(answer: Mapping[str, float], actions: tuple[str, ...]) -> dict[str, float]:
    """A hook's answer as a table over `actions` (ValueError when it is not a distribution)."""
    if set(answer) != set(actions):
        raise ValueError(f"policy returned actions {sorted(answer)}, expected {sorted(actions)}")
    values = {a: float(answer[a]) for a in actions}
    if any(not math.isfinite(v) or v < 0 for v in values.values()):
        raise ValueError("policy returned a negative or non-finite probability")
    if abs(sum(values.values()) - 1.0) > 1e-6:
        raise ValueError(f"policy probabilities sum to {sum(values.values())}, not 1")
    return values


def probabilities(
    point: DecisionPoint, hook: Policy | None, context: PolicyContext
) -> tuple[dict[str, float], str]:
    """(probability of each action, policy version) for one available decision. A hook that
    fails or answers nonsense is logged and the fixed table is used, recorded as such."""
    if hook is None or point.policy is None:
        return fixed_table(point), fixed_version(point)
    version = point.policy_version or str(getattr(hook, "version", "") or point.policy)[:64]
    try:
        table = checked(hook(context), context.actions)
    except Exception as exc:
        log.error("study_policy_failed", policy=point.policy, error=f"{type(exc).__name__}")
        return fixed_table(point), f"fallback:{fixed_version(point)}"[:64]
    if point.clip is not None:
        table = clip(table, *point.clip)
    return table, version


def stream_seed(seed: int, study_id: str, participant: str, point: str, index: int) -> int:
    """The per-decision seed: independent streams, reproducible from the study seed."""
    key = f"{seed}|{study_id}|{participant}|{point}|{index}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def draw(table: Mapping[str, float], seed: int) -> str:
    u = random.Random(seed).random()
    total = 0.0
    last = ""
    for action, p in table.items():
        total += p
        last = action if p > 0 else last
        if u < total:
            return action
    return last  # rounding left u above the sum: the last possible action
