"""The study file: the issue's example is valid; every problem names file:line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from bot.settings import SettingsError, load_settings
from bot.study.cli import run
from bot.study.config import StudyFileError, load_study
from tests.bot.study.conftest import STUDY, point, write_study

EXAMPLE = Path(__file__).parents[3] / "examples" / "study.yaml"


def test_the_issue_example_is_valid() -> None:
    study = load_study(EXAMPLE)
    assert study.id == "ba-sms-pilot"
    assert [a.id for a in study.arms] == ["control", "coached"]
    assert study.arms[1].program == "ba" and study.arms[0].coaching is False
    decision = study.decision_points[0]
    assert decision.days == 42 and decision.proximal_outcome is not None
    assert decision.availability.min_hours_since_prompt == 3


def _error(tmp_path: Path, **changes: Any) -> str:
    with pytest.raises(StudyFileError) as caught:
        load_study(write_study(tmp_path, **changes))
    return str(caught.value)


@pytest.mark.parametrize(
    ("changes", "needle", "words"),
    [
        ({"arms": [{"id": "a", "ratio": 0}]}, "ratio: 0", "greater than 0"),
        ({"arms": [{"id": "a", "ratio": 1.5}]}, "ratio: 1.5", "valid integer"),
        (
            {"randomization": {"method": "block", "block_size": 3, "strata": [], "seed": 1}},
            "id: ba-sms-pilot",
            "multiple of the sum of the arm ratios (2)",
        ),
        (
            {"randomization": {"method": "block", "block_size": 4, "strata": ["zip"], "seed": 1}},
            "strata:",
            "unknown stratum 'zip'",
        ),
        ({"decision_points": [point(local_times=["7pm"])]}, "local_times:", "HH:MM"),
        ({"decision_points": [point(local_times=["24:00"])]}, "local_times:", "HH:MM"),
        (
            {
                "decision_points": [
                    point(
                        actions=[{"id": "a", "probability": 0.5}, {"id": "b", "probability": 0.4}]
                    )
                ]
            },
            "- id: evening_prompt",
            "sum to 1",
        ),
        (
            {
                "decision_points": [
                    point(
                        actions=[
                            {"id": "a", "probability": 0.5},
                            {"id": "b", "probability": 0.5, "flow": "nope"},
                        ]
                    )
                ]
            },
            "flow: nope",
            "unknown flow 'nope'",
        ),
        (
            {"decision_points": [point(availability={"exclude": ["crisis"]})]},
            "exclude:",
            "must list takeover, paused, opted_out, quiet_hours",
        ),
        (
            {"decision_points": [point(availability={"exclude": ["crisis", "sleepy"]})]},
            "- sleepy",
            "'sleepy'",
        ),
        (
            {"decision_points": [point(policy="no_such_module:fn")]},
            "policy: no_such",
            "cannot be imported",
        ),
        (
            {"decision_points": [point(policy="tests.bot.study.policies:greedy", clip=[0.6, 0.9])]},
            "- id: evening_prompt",
            "clip band",
        ),
        ({"surprise": 1}, "surprise: 1", "surprise: Extra inputs are not permitted"),
    ],
)
def test_problems_name_file_and_line(
    tmp_path: Path, changes: dict[str, object], needle: str, words: str
) -> None:
    message = _error(tmp_path, **changes)
    text = (tmp_path / "study.yaml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, content in enumerate(text, 1) if needle in content)
    assert message.startswith(f"{tmp_path / 'study.yaml'}:{line}: "), message
    assert words in message


def test_invalid_yaml_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("id: x\narms: [\n  {id: a\n", encoding="utf-8")
    with pytest.raises(StudyFileError, match=rf"^{path}:\d+: invalid YAML"):
        load_study(path)


def test_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argparse.Namespace(file=EXAMPLE)) == 0
    out = capsys.readouterr().out
    assert "study ba-sms-pilot" in out and "42 decisions per participant" in out
    bad = write_study(tmp_path, arms=[{"id": "a", "ratio": 0}, {"id": "a", "ratio": 1}])
    assert run(argparse.Namespace(file=bad)) == 1
    err = capsys.readouterr().err
    assert f"{bad}:4:" in err and "arm ids must be unique" not in err


def test_start_up_stops_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = write_study(tmp_path, arms=[{"id": "a", "ratio": 0}], decision_points=[point(days=0)])
    monkeypatch.setenv("TANDEM_STUDY_FILE", str(bad))
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("TANDEM_STUDY_FILE:") and f"{bad}:4:" in message
    assert "1 more" in message
    monkeypatch.setenv("TANDEM_STUDY_FILE", str(write_study(tmp_path, **STUDY)))
    assert load_settings().study_file is not None
