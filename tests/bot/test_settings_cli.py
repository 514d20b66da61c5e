"""Configuration errors stop start-up with one clear line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TANDEM = Path(sys.executable).with_name("tandem")


def run(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TANDEM), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TANDEM_DATABASE_URL", "mysql://nope"),
        ("TANDEM_PORT", "99999"),
        ("TANDEM_PORT", "eighty"),
        ("TANDEM_DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("TANDEM_DEFAULT_LOCALE", "fr"),
        ("TANDEM_PUBLIC_URL", "ftp://x"),
        ("TANDEM_TRY_CHANNEL", "maybe"),
        ("TANDEM_ONCALL_PHONE", "555-0100"),
        ("TANDEM_ONCALL_PHONE", "+15550000000"),
        ("TANDEM_SAFEGUARDING_GUIDANCE", "   "),
        ("TANDEM_DEFAULT_COUNTRY", "XX"),
        ("TANDEM_DEFAULT_COUNTRY", "Mexico"),
        ("TANDEM_CRISIS_RESOURCES_FILE", "/nonexistent/resources.yaml"),
        ("TANDEM_BACKGROUND", "sometimes"),
        ("TANDEM_DB_POOL_SIZE", "0"),
        ("TANDEM_DB_POOL_TIMEOUT", "-1"),
        ("TANDEM_MEASURE_EVERY_DAYS", "-1"),
        ("TANDEM_MEASURE_EVERY_DAYS", "fortnightly"),
    ],
)
def test_invalid_setting_names_the_variable(variable: str, value: str) -> None:
    result = run("db", "upgrade", **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], result.stderr


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"TANDEM_TWILIO_ACCOUNT_SID": "AC1", "TANDEM_TWILIO_AUTH_TOKEN": "t"}, "FROM_NUMBER"),
        ({"TANDEM_TWILIO_AUTH_TOKEN": "t", "TANDEM_TWILIO_FROM_NUMBER": "+1500"}, "ACCOUNT_SID"),
        ({"TANDEM_TWILIO_ACCOUNT_SID": "AC1", "TANDEM_TWILIO_FROM_NUMBER": "+1500"}, "AUTH_TOKEN"),
    ],
)
def test_incomplete_twilio_settings_stop_start_up(given: dict[str, str], missing: str) -> None:
    result = run("serve", TANDEM_DATABASE_URL="sqlite+aiosqlite:///:memory:", **given)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"TANDEM_TWILIO_{missing}" in lines[0], result.stderr


def test_bad_port_flag_is_refused() -> None:
    result = run("serve", "--port", "0", TANDEM_DATABASE_URL="sqlite+aiosqlite:///:memory:")
    assert result.returncode == 2 and "--port" in result.stderr


def test_bad_workers_flag_is_refused() -> None:
    result = run("serve", "--workers", "0", TANDEM_DATABASE_URL="sqlite+aiosqlite:///:memory:")
    assert result.returncode == 2 and "--workers" in result.stderr


def test_chat_completes_onboarding_and_a_checkin(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/chat.db"
    # Onboarding, then the program screen (PHQ-2, GAD-2: all 0) and anxiety skills chosen.
    stdin = "hi\nyes\nSam\n9am\n0\n0\n0\n0\n2\n"
    result = run("chat", stdin=stdin, TANDEM_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("tandem> ")]
    assert "tandem> Welcome! What name would you like me to call you?" in lines
    assert lines[-1] == "tandem> Reply MENU any time to see the exercises, or to switch programs."
    # Running again continues the same conversation: the menu offers a check-in now.
    again = run("chat", stdin="menu\nCheck in now\n4\nok day\n", TANDEM_DATABASE_URL=url)
    assert again.returncode == 0
    replies = [line for line in again.stdout.splitlines() if line.startswith("tandem> ")]
    assert replies[-3].startswith("tandem> Hi Sam! How is your mood right now")
    assert replies[-1] == (
        "tandem> Thanks for checking in. One small thing you enjoy today could help a little."
    )


def test_flows_commands() -> None:
    listed = run("flows", "list")
    assert listed.returncode == 0
    ids = [line.split()[0] for line in listed.stdout.splitlines()]
    assert "onboarding" in ids and "checkin" in ids
    diagram = run("flows", "diagram", "checkin")
    assert diagram.returncode == 0 and diagram.stdout.startswith("flowchart TD")
    unknown = run("flows", "diagram", "nope")
    assert unknown.returncode == 2 and "unknown flow 'nope'" in unknown.stderr
    check = run("flows", "check")
    assert check.returncode == 0, check.stdout + check.stderr
