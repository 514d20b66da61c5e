"""Authoring tools: the published schema and diagrams are current, and `tandem flows check`
reports each kind of broken flow with file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.flowcmd import DOCS_DIR, diagram_doc, run_flows_command
from flows.library import PACKAGE_DIR, FlowLibrary
from flows.schema import flow_schema, schema_text
from flows.steps import REGISTRY

LIBRARY = FlowLibrary.load()
REGEN = "run `tandem flows docs` (or `make docs`) and commit the result"


def test_published_schema_is_current() -> None:
    published = (DOCS_DIR / "flow.schema.json").read_text(encoding="utf-8")
    assert published == schema_text(), f"docs/flow.schema.json is stale: {REGEN}"


def test_every_step_type_and_every_used_key_is_in_the_schema() -> None:
    schema = flow_schema()
    defs = schema["$defs"]
    by_type = {
        d["properties"]["type"]["const"]: set(d["properties"])
        for d in defs.values()
        if "type" in d.get("properties", {}) and "const" in d["properties"]["type"]
    }
    assert set(by_type) == set(REGISTRY)
    for path in sorted((PACKAGE_DIR / "definitions").glob("*.yaml")):
        definition = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(definition) <= set(schema["properties"]), path.name
        for name, raw in definition["steps"].items():
            assert set(raw) <= by_type[raw["type"]], f"{path.name}: {name}"


@pytest.mark.parametrize("flow_id", sorted(LIBRARY.current))
def test_committed_diagram_is_current(flow_id: str) -> None:
    path = DOCS_DIR / "flows" / f"{flow_id}.md"
    assert path.exists(), f"docs/flows/{flow_id}.md is missing: {REGEN}"
    assert path.read_text(encoding="utf-8") == diagram_doc(LIBRARY, flow_id), (
        f"docs/flows/{flow_id}.md is stale: {REGEN}"
    )


def test_no_diagram_for_a_flow_that_is_gone() -> None:
    extra = {p.stem for p in (DOCS_DIR / "flows").glob("*.md")} - set(LIBRARY.current)
    assert not extra, f"diagrams of removed flows {sorted(extra)}: {REGEN}"


def test_schema_is_valid_json_with_a_ref_for_every_step() -> None:
    schema = json.loads(schema_text())
    refs = schema["properties"]["steps"]["additionalProperties"]["oneOf"]
    assert all(ref["$ref"].removeprefix("#/$defs/") in schema["$defs"] for ref in refs)


# --- `tandem flows check` on broken flows ---------------------------------------------------

GOOD = {
    "id": "demo",
    "version": 1,
    "start": "hello",
    "steps": {
        "hello": {"type": "message", "text": "hello", "next": "done"},
        "done": {"type": "end"},
    },
}


def _write(root: Path, definition: dict[str, object], texts: dict[str, dict[str, str]]) -> None:
    (root / "definitions").mkdir(parents=True, exist_ok=True)
    flow_id = str(definition["id"])
    (root / "definitions" / f"{flow_id}.yaml").write_text(
        yaml.safe_dump(definition, sort_keys=False), encoding="utf-8"
    )
    for locale, values in texts.items():
        (root / "content" / locale).mkdir(parents=True, exist_ok=True)
        (root / "content" / locale / f"{flow_id}.yaml").write_text(
            yaml.safe_dump(values, allow_unicode=True, width=10000), encoding="utf-8"
        )


def _check(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run_flows_command("check", None, root)
    out = capsys.readouterr()
    return code, out.out + out.err


BOTH = {"en": {"hello": "Hi!"}, "es": {"hello": "¡Hola!"}}


def test_a_good_flow_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, GOOD, BOTH)
    code, out = _check(tmp_path, capsys)
    assert code == 0, out
    assert "1 flows checked: 0 error(s), 0 warning(s)" in out


def test_schema_error_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = json.loads(json.dumps(GOOD))
    broken["steps"]["hello"] = {"type": "message", "text": "hello", "nxt": "done"}
    _write(tmp_path, broken, BOTH)
    code, out = _check(tmp_path, capsys)
    path = tmp_path / "definitions" / "demo.yaml"
    line = path.read_text().splitlines().index("  hello:") + 1
    assert code == 1
    assert f"{path}:{line}: error: step 'hello': next: Field required" in out
    assert f"{path}:{line}: error: step 'hello': nxt: Extra inputs are not permitted" in out


def test_unreachable_dead_end_and_undefined_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = json.loads(json.dumps(GOOD))
    broken["steps"].update(
        {
            "orphan": {"type": "message", "text": "hello", "next": "done"},
            "hello": {"type": "branch", "cases": [{"when": "mood > 3", "next": "loop"}],
                      "default": "done"},
            "loop": {"type": "wait", "next": "loop2"},
            "loop2": {"type": "wait", "next": "loop"},
        }
    )  # fmt: skip
    _write(tmp_path, broken, BOTH)
    code, out = _check(tmp_path, capsys)
    path = tmp_path / "definitions" / "demo.yaml"
    lines = path.read_text().splitlines()
    assert code == 1
    assert f"{path}:{lines.index('  orphan:') + 1}: error: step 'orphan' is unreachable" in out
    assert f"{path}:{lines.index('  loop:') + 1}: error: step 'loop' is a dead end" in out
    assert f"{path}:{lines.index('  hello:') + 1}: error: step 'hello': expression uses " in out
    assert "undefined variable 'mood'" in out


def test_missing_translation_and_undefined_text_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, GOOD, {"en": {"hello": "Hi {{ nobody }}!"}, "es": {}})
    code, out = _check(tmp_path, capsys)
    assert code == 1
    assert "step 'hello': text 'hello' is missing in 'es'" in out
    assert "text 'hello' (en) uses undefined variable 'nobody'" in out


def test_sms_length_warning_and_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long = "word " * 70  # 350 GSM-7 characters: 3 segments
    _write(tmp_path, GOOD, {"en": {"hello": long.strip()}, "es": {"hello": "x" * 1601}})
    code, out = _check(tmp_path, capsys)
    en = tmp_path / "content" / "en" / "demo.yaml"
    es = tmp_path / "content" / "es" / "demo.yaml"
    assert code == 1
    assert f"{en}:1: warning: text 'hello' (en) needs 3 SMS segments (GSM-7)" in out
    assert f"{es}:1: error: text 'hello' (es) is 1601 characters, over the SMS maximum" in out


def test_menu_label_must_exist_in_every_locale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, {**GOOD, "menu": {"group": "tools", "label": "menu_label"}},
           {"en": {"hello": "Hi", "menu_label": "Demo"}, "es": {"hello": "Hola"}})  # fmt: skip
    code, out = _check(tmp_path, capsys)
    assert code == 1
    assert "menu label 'menu_label' is missing in 'es'" in out
    _write(tmp_path, {**GOOD, "menu": {"group": "nope", "label": "menu_label"}}, BOTH)
    code, out = _check(tmp_path, capsys)
    assert code == 1 and "menu: group: Input should be 'ba', 'anxiety' or 'tools'" in out


def test_list_prints_one_flow_and_version_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, GOOD, BOTH)
    assert run_flows_command("list", None, tmp_path) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("demo 1-")
