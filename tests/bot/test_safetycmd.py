"""`tandem safety eval`: the command a clinic runs on its own phrase list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TANDEM = Path(sys.executable).with_name("tandem")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TANDEM), "safety", "eval", *args],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )


def test_text_report(tmp_path: Path) -> None:
    path = tmp_path / "clinic.tsv"
    path.write_text(
        "risk\ti have the pills ready\nrisk\tthe sky is blue\n"
        "concern\tsoy una carga\nhuman\tare you a bot?\n"
        "safe\tmy back is killing me\nsafe\ti want to kill myself\n",
        encoding="utf-8",
    )
    done = run(str(path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "6 messages" in out
    assert "false alarms (safe messages that raised anything): 50.0%" in out
    assert "misses: 1" in out and "line 2 [risk] the sky is blue" in out
    assert "false alarms: 1" in out and "line 6 [safe] i want to kill myself" in out
    assert "preparatory" in out


def test_json_report(tmp_path: Path) -> None:
    path = tmp_path / "clinic.tsv"
    path.write_text("risk\tme quiero matar\nsafe\tme muero de risa\n", encoding="utf-8")
    done = run("--json", str(path))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["recall"] == 1.0 and report["false_alarm_rate"] == 0.0
    assert report["labels"]["risk"]["detected_categories"] == {"active_ideation": 1}


def test_bad_files_exit_2_naming_the_problem(tmp_path: Path) -> None:
    missing = run(str(tmp_path / "nope.tsv"))
    assert missing.returncode == 2
    assert "nope.tsv: cannot read" in missing.stderr
    bad = tmp_path / "bad.tsv"
    bad.write_text("risk\tok\nurgent\thelp\n", encoding="utf-8")
    done = run(str(bad))
    assert done.returncode == 2
    assert "bad.tsv:2: unknown label 'urgent'" in done.stderr
    assert done.stdout == ""
