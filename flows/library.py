"""Load every flow from YAML (definitions and per-locale texts) and keep older versions reachable.

Layout: `definitions/<flow>.yaml` holds structure; `content/<locale>/<flow>.yaml` holds that flow's
texts and `content/<locale>/common.yaml` the shared ones (referred to as `common.<key>`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from flows.compiler import COMMON, CompiledFlow, FlowError, FlowSource, Problem

PACKAGE_DIR = Path(__file__).parent
LOCALES = ("en", "es")


def _read_yaml(path: Path, problems: list[Problem]) -> tuple[Any, dict[str, int]]:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path), 1, f"cannot read: {exc}"))
        return None, {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problems.append(Problem(str(path), line, f"invalid YAML: {exc}"))
        return None, {}
    lines: dict[str, int] = {}
    # Remember where each step starts so schema errors can point at file:line.
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "steps" and isinstance(value, yaml.MappingNode):
                for step_key, _ in value.value:
                    lines[str(step_key.value)] = step_key.start_mark.line + 1
            else:
                lines[f"@{key.value}"] = key.start_mark.line + 1
    return data, lines


def _texts(content_dir: Path, flow_id: str, problems: list[Problem]) -> dict[str, dict[str, str]]:
    texts: dict[str, dict[str, str]] = {}
    for locale_dir in sorted(p for p in content_dir.iterdir() if p.is_dir()):
        merged: dict[str, str] = {}
        for name, prefix in (("common", COMMON), (flow_id, "")):
            path = locale_dir / f"{name}.yaml"
            if not path.exists():
                continue
            data, _ = _read_yaml(path, problems)
            if data is None:
                continue
            if not isinstance(data, Mapping) or not all(isinstance(v, str) for v in data.values()):
                problems.append(Problem(str(path), 1, "texts must be a mapping of key: text"))
                continue
            merged.update({f"{prefix}{k}": v for k, v in data.items()})
        texts[locale_dir.name] = merged
    return texts


def load_sources(root: Path = PACKAGE_DIR) -> tuple[list[FlowSource], list[Problem]]:
    problems: list[Problem] = []
    sources = []
    for path in sorted((root / "definitions").glob("*.yaml")):
        definition, lines = _read_yaml(path, problems)
        if definition is None:
            continue
        if not isinstance(definition, Mapping):
            problems.append(Problem(str(path), 1, "a flow file must be a mapping"))
            continue
        flow_id = str(definition.get("id", path.stem))
        if flow_id != path.stem:
            problems.append(Problem(str(path), lines.get("@id", 1), f"id {flow_id!r} != file name"))
        texts = _texts(root / "content", flow_id, problems)
        sources.append(FlowSource(definition, texts, str(path), lines))
    return sources, problems


class FlowLibrary:
    """Current flows by id, plus any older version a run in flight still needs."""

    def __init__(self, flows: Iterable[CompiledFlow]) -> None:
        self.current: dict[str, CompiledFlow] = {}
        self.versions: dict[tuple[str, str], CompiledFlow] = {}
        for flow in flows:
            self.current[flow.id] = flow
            self.versions[(flow.id, flow.version)] = flow

    @classmethod
    def load(cls, root: Path = PACKAGE_DIR) -> FlowLibrary:
        """Compile every flow under `root`; raise FlowError listing every problem found."""
        sources, problems = load_sources(root)
        flows = []
        for source in sources:
            try:
                flows.append(CompiledFlow(source))
            except FlowError as exc:
                problems.extend(exc.problems)
        if problems:
            raise FlowError(problems)
        return cls(flows)

    def get(self, flow_id: str, version: str | None = None) -> CompiledFlow:
        if version is None:
            if flow_id not in self.current:
                raise KeyError(f"no flow {flow_id!r}")
            return self.current[flow_id]
        flow = self.versions.get((flow_id, version))
        if flow is None:
            raise KeyError(f"flow {flow_id!r} version {version!r} is not loaded")
        return flow

    def has_version(self, flow_id: str, version: str) -> bool:
        return (flow_id, version) in self.versions

    def add_snapshot(self, snapshot: Mapping[str, Any]) -> CompiledFlow:
        flow = CompiledFlow(FlowSource(snapshot["definition"], snapshot["texts"]))
        self.versions.setdefault((flow.id, flow.version), flow)
        return self.versions[(flow.id, flow.version)]
