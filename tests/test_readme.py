"""README works as written: every setting in bot/settings.py is listed in its Configuration
table with its true default (and nothing else is), and every `tandem ...` command line it shows
names real subcommands and options (each is run with `--help` appended)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic_core import PydanticUndefined

from bot.cli import _parser, main
from bot.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
TICKED = re.compile(r"`([^`]*)`")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def _settings_rows() -> dict[str, str]:
    """TANDEM_X -> the default as README writes it (one entry per variable)."""
    rows: dict[str, str] = {}
    for line in _section("Configuration").splitlines():
        if not line.startswith("| `TANDEM_"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        names = re.findall(r"`(TANDEM_[A-Z0-9_]+)`", cells[0])
        parts = cells[1].split(" / ") if len(names) > 1 else [cells[1]]
        if len(parts) == 1:  # one default for every variable of the row
            parts = parts * len(names)
        assert len(parts) == len(names), f"one default per variable, or one for all: {line}"
        for name, part in zip(names, parts, strict=True):
            assert name not in rows, f"{name} is listed twice"
            rows[name] = part.strip()
    return rows


def _default(field: Any) -> Any:
    if field.default is PydanticUndefined:
        return field.default_factory()
    return field.default


def _matches(written: str, value: Any) -> bool:
    if written.startswith("("):  # "(none)", "(none: kept)", "(derived from the token)"
        return value in (None, "")
    ticked = TICKED.match(written)
    assert ticked, f"a default is written as `value`: {written!r}"
    text = ticked.group(1)
    if isinstance(value, dict):
        return bool(json.loads(text) == value)
    if isinstance(value, bool):
        return text == ("on" if value else "off")
    if isinstance(value, int | float):
        return float(text) == float(value)
    if written[ticked.end() :].lstrip().startswith("..."):  # a long text, its beginning shown
        return str(value).startswith(text)
    return text == str(value)


def test_every_setting_is_listed_with_its_default() -> None:
    rows = _settings_rows()
    fields = {f"TANDEM_{name.upper()}": field for name, field in Settings.model_fields.items()}
    assert sorted(set(fields) - set(rows)) == [], "settings missing from README's Configuration"
    assert sorted(set(rows) - set(fields)) == [], "README lists settings that do not exist"
    wrong = {
        name: (rows[name], _default(field))
        for name, field in fields.items()
        if not _matches(rows[name], _default(field))
    }
    assert wrong == {}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _command_lines() -> list[str]:
    """Every `tandem ...` README shows: code spans, and command lines in code blocks."""
    found = [m for m in TICKED.findall(README) if re.match(r"(\.venv/bin/)?tandem [a-z]", m)]
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S):
        for line in block.splitlines():
            for part in line.lstrip("$ ").split(" | "):
                part = part.strip()
                if re.match(r"(\.venv/bin/)?tandem [a-z]", part):
                    found.append(part.split("#")[0].strip())
    return sorted(set(found))


def _invocations(line: str) -> list[tuple[list[str], list[str]]]:
    """(subcommand path, options) for a README command line; `a|b` alternatives expand."""
    tokens = line.removeprefix(".venv/bin/").replace("[", " ").replace("]", " ").split()[1:]
    paths: list[list[str]] = [[]]
    parser = _parser()
    rest = tokens
    while rest:
        choices = _subcommands(parser)
        names = rest[0].split("|")
        if not choices or not all(n in choices for n in names):
            break
        paths = [[*p, n] for p in paths for n in names]
        parser, rest = choices[names[0]], rest[1:]
    assert not _subcommands(parser), f"{line!r} names no subcommand of {paths[0]}"
    options = [
        opt.split("=")[0] for token in rest if token.startswith("--") for opt in token.split("/")
    ]
    return [(path, options) for path in paths]


def test_readme_shows_command_lines() -> None:
    lines = _command_lines()
    assert any(line.startswith(".venv/bin/tandem chat") for line in lines)
    assert any(line.startswith("tandem coach add") for line in lines)


@pytest.mark.parametrize("line", _command_lines())
def test_each_command_line_has_those_options(line: str, capsys: pytest.CaptureFixture[str]) -> None:
    for path, options in _invocations(line):
        with pytest.raises(SystemExit) as exited:
            main([*path, "--help"])
        assert exited.value.code == 0, line
        shown = capsys.readouterr().out
        missing = [
            o for o in options if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", shown)
        ]
        assert missing == [], f"{line!r}: `tandem {' '.join(path)}` has no {missing}"
