"""Static checks of flow content: what `tandem flows check` reports beyond schema errors."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from flows.compiler import CompiledFlow, Problem
from flows.library import LOCALES, FlowLibrary
from flows.steps.end import EndStep
from flows.texts import check_syntax, referenced_names

# Names every text and expression may use without a step setting them first.
BUILTINS = {
    "patient", "site", "text", "today", "min", "max", "true", "false", "none", "range", "loop",
}  # fmt: skip


def _reachable(flow: CompiledFlow) -> set[str]:
    seen = {flow.start}
    queue = deque([flow.start])
    while queue:
        for dest in flow.steps[queue.popleft()].targets().values():
            if dest not in seen:
                seen.add(dest)
                queue.append(dest)
    return seen


def _can_finish(flow: CompiledFlow) -> set[str]:
    """Steps from which some path reaches an end step."""
    finishing = {name for name, step in flow.steps.items() if isinstance(step, EndStep)}
    changed = True
    while changed:
        changed = False
        for name, step in flow.steps.items():
            if name not in finishing and finishing & set(step.targets().values()):
                finishing.add(name)
                changed = True
    return finishing


def _related(library: FlowLibrary, flow: CompiledFlow) -> Iterator[CompiledFlow]:
    """Flows sharing variables with `flow`: itself, subflows it calls, flows that call it."""
    yield flow
    for other in library.current.values():
        calls = {s for step in other.steps.values() for s in step.subflows()}
        mine = {s for step in flow.steps.values() for s in step.subflows()}
        if flow.id in calls or other.id in mine:
            yield other


def check_flow(library: FlowLibrary, flow: CompiledFlow) -> list[Problem]:
    path, lines = flow.source.path, flow.source.lines
    problems: list[Problem] = []

    def at(step: str, message: str, severity: str = "error") -> None:
        problems.append(Problem(path, lines.get(step, 1), message, severity))

    reachable = _reachable(flow)
    finishing = _can_finish(flow)
    defined = BUILTINS | {
        v for f in _related(library, flow) for s in f.steps.values() for v in s.sets()
    }
    used_keys: set[str] = set()
    for name, step in flow.steps.items():
        if name not in reachable:
            at(name, f"step {name!r} is unreachable from {flow.start!r}")
        elif name not in finishing:
            at(name, f"step {name!r} is a dead end: no path from it reaches an end step")
        for sub in step.subflows():
            if sub not in library.current:
                at(name, f"step {name!r} refers to unknown flow {sub!r}")
        for expression in step.expressions():
            error = check_syntax(expression, expression=True)
            if error:
                at(name, f"step {name!r}: bad expression {expression!r}: {error}")
            for var in referenced_names(expression, expression=True) - defined:
                at(name, f"step {name!r}: expression uses undefined variable {var!r}")
        for template in step.templates():
            for var in referenced_names(template) - defined:
                at(name, f"step {name!r}: text uses undefined variable {var!r}")
        for key in step.text_keys():
            used_keys.add(key)
            for locale in LOCALES:
                source = flow.source.texts.get(locale, {}).get(key)
                if source is None:
                    at(name, f"step {name!r}: text {key!r} is missing in {locale!r}")
                    continue
                error = check_syntax(source)
                if error:
                    at(name, f"text {key!r} ({locale}): {error}")
                for var in referenced_names(source) - defined:
                    at(name, f"text {key!r} ({locale}) uses undefined variable {var!r}")
    if flow.menu is not None:
        used_keys.add(flow.menu.label)
        for locale in LOCALES:
            if flow.menu.label not in flow.source.texts.get(locale, {}):
                problems.append(
                    Problem(
                        path,
                        lines.get("@menu", 1),
                        f"menu label {flow.menu.label!r} is missing in {locale!r}",
                    )
                )
    for locale in LOCALES:
        own = {k for k in flow.source.texts.get(locale, {}) if not k.startswith("common.")}
        for key in sorted(own - used_keys):
            problems.append(Problem(path, 1, f"text {key!r} ({locale}) is never used", "warning"))
    return problems


def check_library(library: FlowLibrary) -> list[Problem]:
    problems: list[Problem] = []
    for flow in library.current.values():
        problems.extend(check_flow(library, flow))
    return problems
