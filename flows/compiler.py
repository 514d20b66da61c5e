"""Flow definitions (YAML data) validated and compiled into `transitions` state machines.

One machine per flow version, shared by every patient: a run's state is restored onto a throwaway
model for each step (see `engine.py`), never kept as a machine per patient.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from transitions import Machine

from flows.menu import MenuSpec
from flows.steps import REGISTRY, Step
from flows.texts import lookup

COMMON = "common."


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    message: str
    severity: str = "error"  # error, warning

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.severity}: {self.message}"


class FlowError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class FlowSource:
    """A flow as written: its definition, its texts per locale, and where it came from."""

    definition: Mapping[str, Any]
    texts: Mapping[str, Mapping[str, str]]  # locale -> key -> text (common.* keys included)
    path: str = "<snapshot>"
    lines: Mapping[str, int] = field(default_factory=dict)  # step id -> line in `path`

    def snapshot(self) -> dict[str, Any]:
        return {"definition": self.definition, "texts": self.texts}

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.snapshot(), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:10]


class CompiledFlow:
    def __init__(self, source: FlowSource) -> None:
        problems: list[Problem] = []
        definition = source.definition
        self.source = source
        self.id = str(definition.get("id", ""))
        self.declared_version = definition.get("version", 1)
        self.version = f"{self.declared_version}-{source.digest}"
        self.description = str(definition.get("description", ""))
        self.start = str(definition.get("start", ""))
        self.steps: dict[str, Step] = {}
        self.spare_tokens: list[Any] = []  # the engine's reusable machine models
        self.menu: MenuSpec | None = None
        raw_menu = definition.get("menu")
        if raw_menu is not None:
            try:
                self.menu = MenuSpec.model_validate(raw_menu)
            except ValidationError as exc:
                line = source.lines.get("@menu", 1)
                for err in exc.errors():
                    where = ".".join(str(p) for p in err["loc"]) or "menu"
                    problems.append(Problem(source.path, line, f"menu: {where}: {err['msg']}"))
        raw_steps = definition.get("steps")
        if not self.id:
            problems.append(Problem(source.path, 1, "flow has no id"))
        if not isinstance(raw_steps, Mapping) or not raw_steps:
            problems.append(Problem(source.path, 1, "flow has no steps"))
            raise FlowError(problems)
        for name, raw in raw_steps.items():
            line = source.lines.get(str(name), 1)
            step = _parse_step(str(name), raw, source.path, line, problems)
            if step is not None:
                self.steps[str(name)] = step
        if self.start not in raw_steps:
            problems.append(Problem(source.path, 1, f"start step {self.start!r} is not defined"))
        for name, step in self.steps.items():
            for label, dest in step.targets().items():
                if dest not in raw_steps:
                    problems.append(
                        Problem(
                            source.path,
                            source.lines.get(name, 1),
                            f"step {name!r} ({label}) goes to undefined step {dest!r}",
                        )
                    )
        if problems:
            raise FlowError(problems)
        self.machine = self._machine()

    def _machine(self) -> Machine:
        machine = Machine(model=None, states=list(self.steps), initial=None, auto_transitions=False)
        for name, step in self.steps.items():
            for dest in set(step.targets().values()):
                machine.add_transition(trigger=f"to__{dest}", source=name, dest=dest)
        return machine

    def edges(self) -> list[tuple[str, str, str]]:
        return [
            (name, label, dest)
            for name, step in self.steps.items()
            for label, dest in step.targets().items()
        ]

    def text(self, key: str, locale: str) -> str:
        """This version's unrendered text `key` (`common.*` included), by `flows.texts.lookup`."""
        return lookup(self.source.texts, key, locale, name=f"{self.id}.{key}")


def _parse_step(name: str, raw: Any, path: str, line: int, problems: list[Problem]) -> Step | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem(path, line, f"step {name!r} must be a mapping"))
        return None
    kind = raw.get("type")
    cls = REGISTRY.get(str(kind))
    if cls is None:
        known = ", ".join(sorted(REGISTRY))
        problems.append(Problem(path, line, f"step {name!r}: unknown type {kind!r} ({known})"))
        return None
    try:
        return cls.model_validate(dict(raw))
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "step"
            problems.append(Problem(path, line, f"step {name!r}: {where}: {err['msg']}"))
        return None
