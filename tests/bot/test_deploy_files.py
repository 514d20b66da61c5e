"""docker-compose.yml stays in step with the CLI and the settings (Docker cannot run here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.cli import _parser
from bot.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def test_every_tandem_command_parses() -> None:
    commands = [s["command"] for s in _services().values() if s.get("command", [""])[0] == "tandem"]
    assert len(commands) >= 4  # migrate, two web processes, a worker
    for command in commands:
        _parser().parse_args(command[1:])  # exits (fails the test) on an unknown flag


def test_every_tandem_variable_is_a_setting() -> None:
    fields = {f"TANDEM_{name.upper()}" for name in Settings.model_fields}
    for service in _services().values():
        names = {n for n in (service.get("environment") or {}) if n.startswith("TANDEM_")}
        assert names <= fields | {"TANDEM_PUBLIC_HOST"}, names - fields


def test_web_processes_leave_background_work_to_the_worker() -> None:
    services = _services()
    web = [s for s in services.values() if "serve" in s.get("command", [])]
    assert len(web) == 2 and all("--no-background" in s["command"] for s in web)
    assert sum("worker" in s.get("command", []) for s in services.values()) == 1
