"""A study file written per test, and a Tandem running it."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from flows.library import FlowLibrary

POINT: dict[str, Any] = {
    "id": "evening_prompt",
    "local_times": ["19:00"],
    "days": 3,
    "availability": {
        "exclude": ["crisis", "takeover", "paused", "opted_out", "quiet_hours"],
        "min_hours_since_prompt": 3,
    },
    "actions": [
        {"id": "none", "probability": 0.5},
        {"id": "checkin_prompt", "probability": 0.5, "flow": "checkin"},
    ],
    "proximal_outcome": {"kind": "reply_within_hours", "hours": 3},
}
STUDY: dict[str, Any] = {
    "id": "ba-sms-pilot",
    "arms": [
        {"id": "control", "ratio": 1, "coaching": False},
        {"id": "coached", "ratio": 1, "coaching": True, "program": "ba"},
    ],
    "randomization": {"method": "block", "block_size": 4, "strata": ["locale"], "seed": 20261201},
    "decision_points": [POINT],
}


def write_study(folder: Path, data: dict[str, Any] | None = None, **changes: Any) -> Path:
    """The example study (or `data`), top-level keys replaced by `changes`, as a YAML file."""
    content = copy.deepcopy(data if data is not None else STUDY)
    content.update(changes)
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


def point(**changes: Any) -> dict[str, Any]:
    content = copy.deepcopy(POINT)
    content.update(changes)
    return content


@pytest.fixture
def study_path(tmp_path: Path) -> Path:
    return write_study(tmp_path)


@pytest.fixture
async def standem(
    settings: Settings, clock: FakeClock, library: FlowLibrary, study_path: Path
) -> AsyncIterator[Tandem]:
    service = Tandem(
        settings.model_copy(update={"study_file": study_path}), clock=clock, library=library
    )
    yield service
    await service.close()
