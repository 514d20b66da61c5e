"""The study file (`TANDEM_STUDY_FILE`): arms, randomization and micro-randomized decision points.

Read with line numbers kept (YAML node marks), validated with pydantic, and every problem reported
as `file:line: problem`, at start-up and by `tandem study check FILE`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flows.library import PACKAGE_DIR

# Patient fields a design may stratify on: set at enrolment, few values each.
STRATA_FIELDS = ("locale", "program", "country", "timezone")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class Reason(StrEnum):
    """Why a participant was unavailable at a decision point (recorded, typed)."""

    CRISIS = "crisis"  # an open safety check or risk escalation
    TAKEOVER = "takeover"  # a coach holds the conversation (bot paused)
    PAUSED = "paused"  # the patient paused their messages
    OPTED_OUT = "opted_out"  # STOP, or discharged: never contacted again
    QUIET_HOURS = "quiet_hours"  # the decision time is in the patient's quiet hours
    # Always applied, whatever the file says: Tandem would not message the patient then.
    NO_CONSENT = "no_consent"  # not (yet) consented to messages
    BUSY = "busy"  # mid-conversation in a flow: a prompt would cut it off
    RECENT_PROMPT = "recent_prompt"  # a prompt went out less than min_hours_since_prompt ago
    MISSED = "missed"  # the service was down past the grace window: no late prompt
    WITHDRAWN = "withdrawn"  # the participant left the study


# The file's `exclude` must name these: Tandem never prompts a patient in these states, and the
# analyst must see the design says so.
REQUIRED_EXCLUDE = (
    Reason.CRISIS,
    Reason.TAKEOVER,
    Reason.PAUSED,
    Reason.OPTED_OUT,
    Reason.QUIET_HOURS,
)
EXCLUDABLE = (*REQUIRED_EXCLUDE, Reason.BUSY, Reason.NO_CONSENT)


class StudyFileError(ValueError):
    """The study file is invalid; the message is `file:line: problem` (one per line)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arm(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    ratio: Annotated[int, Field(gt=0, strict=True)]
    coaching: bool = True  # false: no routine coach contact (safety responses are unchanged)
    # Set at enrolment (patient.program and the `program` fact) when the patient has none.
    program: Literal["ba", "anxiety", "both"] | None = None


class Randomization(_Strict):
    method: Literal["block"]
    block_size: Annotated[int, Field(gt=0, strict=True)]
    strata: list[str] = []
    seed: Annotated[int, Field(strict=True)]

    @field_validator("strata")
    @classmethod
    def _known_fields(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in STRATA_FIELDS:
                raise ValueError(f"unknown stratum {name!r}; one of {', '.join(STRATA_FIELDS)}")
        if len(set(value)) != len(value):
            raise ValueError("a stratum is listed twice")
        return value


class Availability(_Strict):
    exclude: list[Reason]
    min_hours_since_prompt: Annotated[float, Field(ge=0)] = 0

    @field_validator("exclude")
    @classmethod
    def _safe(cls, value: list[Reason]) -> list[Reason]:
        for reason in value:
            if reason not in EXCLUDABLE:
                raise ValueError(f"{reason.value!r} cannot be listed (it always applies)")
        missing = [r.value for r in REQUIRED_EXCLUDE if r not in value]
        if missing:
            raise ValueError(f"must list {', '.join(missing)}: Tandem never prompts a patient then")
        return value


class Action(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    probability: Annotated[float, Field(ge=0, le=1)] | None = None
    flow: str | None = None  # run through the pipeline as a scheduled check-in is; None: nothing


class ProximalOutcome(_Strict):
    kind: Literal["reply_within_hours"]
    hours: Annotated[float, Field(gt=0)]


class DecisionPoint(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    local_times: Annotated[list[str], Field(min_length=1)]
    days: Annotated[int, Field(gt=0, le=3660, strict=True)]
    availability: Availability
    actions: Annotated[list[Action], Field(min_length=2)]
    proximal_outcome: ProximalOutcome | None = None
    # "package.module:callable" returning action probabilities (adaptive designs); the fixed
    # table is then its prior and fallback-free: the hook's answer, clipped, is what is used.
    policy: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")] | None = None
    policy_version: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    clip: tuple[float, float] | None = None

    @field_validator("local_times")
    @classmethod
    def _times(cls, value: list[str]) -> list[str]:
        for item in value:
            if not isinstance(item, str) or not _HHMM.match(item):
                raise ValueError(f"local time must be HH:MM (got {item!r})")
        if len(set(value)) != len(value):
            raise ValueError("a local time is listed twice")
        return sorted(value)

    @model_validator(mode="after")
    def _table(self) -> DecisionPoint:
        ids = [a.id for a in self.actions]
        if len(set(ids)) != len(ids):
            raise ValueError("action ids must be unique")
        probabilities = [a.probability for a in self.actions]
        if any(p is None for p in probabilities):
            raise ValueError("every action needs a probability")
        if abs(sum(p or 0.0 for p in probabilities) - 1.0) > 1e-9:
            raise ValueError(f"action probabilities must sum to 1 (got {sum(probabilities)})")  # type: ignore[arg-type]
        if self.clip is not None:
            low, high = self.clip
            if not 0 <= low < high <= 1:
                raise ValueError("clip must be [low, high] with 0 <= low < high <= 1")
            if not len(ids) * low <= 1 <= len(ids) * high:
                raise ValueError("clip band cannot hold probabilities that sum to 1")
            if self.policy is None:
                raise ValueError("clip needs a policy (the fixed table is used as written)")
        return self


class Study(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    arms: Annotated[list[Arm], Field(min_length=1)]
    randomization: Randomization
    decision_points: list[DecisionPoint] = []

    @model_validator(mode="after")
    def _design(self) -> Study:
        ids = [a.id for a in self.arms]
        if len(set(ids)) != len(ids):
            raise ValueError("arm ids must be unique")
        total = sum(a.ratio for a in self.arms)
        if self.randomization.block_size % total:
            raise ValueError(
                f"randomization.block_size ({self.randomization.block_size}) must be a multiple "
                f"of the sum of the arm ratios ({total})"
            )
        points = [p.id for p in self.decision_points]
        if len(set(points)) != len(points):
            raise ValueError("decision point ids must be unique")
        return self

    def arm(self, arm_id: str | None) -> Arm | None:
        return next((a for a in self.arms if a.id == arm_id), None)

    def point(self, point_id: str) -> DecisionPoint:
        return next(p for p in self.decision_points if p.id == point_id)


def load_policy(spec: str) -> Callable[..., Any]:
    """The callable named "package.module:callable" (ValueError if it cannot be imported)."""
    module_name, _, attr = spec.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"policy {spec!r} cannot be imported: {exc}") from exc
    if not callable(target):
        raise ValueError(f"policy {spec!r} is not callable")
    return target  # type: ignore[no-any-return]


def known_flows(root: Path = PACKAGE_DIR) -> set[str]:
    return {path.stem for path in (root / "definitions").glob("*.yaml")}


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    """Remember the line of every key and item, by its path in the data."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)


def _line_of(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _problems(
    study: Study, lines: dict[tuple[Any, ...], int], flows: set[str]
) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    for p_index, point in enumerate(study.decision_points):
        for a_index, action in enumerate(point.actions):
            if action.flow is not None and action.flow not in flows:
                loc = ("decision_points", p_index, "actions", a_index, "flow")
                problems.append((_line_of(loc, lines), f"unknown flow {action.flow!r}"))
        if point.policy is not None:
            try:
                load_policy(point.policy)
            except ValueError as exc:
                where = _line_of(("decision_points", p_index, "policy"), lines)
                problems.append((where, str(exc)))
    return problems


def load_study(path: Path, flows: set[str] | None = None) -> Study:
    """The validated study in `path`; StudyFileError naming file:line for every problem."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyFileError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise StudyFileError(f"{path}:{line}: invalid YAML: {problem}") from exc
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    if not isinstance(data, dict):
        raise StudyFileError(f"{path}:1: a study file is a mapping (id, arms, randomization, ...)")
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        found = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            where = ".".join(str(part) for part in loc) or "study"
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] in ("enum", "literal_error"):
                message += f" (got {error['input']!r})"
            found.append(f"{path}:{_line_of(loc, lines)}: {where}: {message}")
        raise StudyFileError("\n".join(found)) from exc
    problems = _problems(study, lines, known_flows() if flows is None else flows)
    if problems:
        raise StudyFileError("\n".join(f"{path}:{line}: {text}" for line, text in problems))
    return study
