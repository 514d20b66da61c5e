"""Start-up failures print one line naming the cause and exit non-zero (no traceback)."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.bot.test_settings_cli import run
from tests.e2e.server import free_port


def _one_line(result: subprocess.CompletedProcess[str], needle: str) -> None:
    stderr = result.stderr
    assert result.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], stderr


def test_unreachable_database() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/tandem"
    _one_line(run("serve", TANDEM_DATABASE_URL=url), "database is unreachable")
    _one_line(run("db", "upgrade", TANDEM_DATABASE_URL=url), "database is unreachable")


def test_missing_postgres_database() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/tandem_no_such_database"
    _one_line(run("serve", TANDEM_DATABASE_URL=url), "does not exist")


def test_unwritable_sqlite_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    url = f"sqlite+aiosqlite:///{blocker}/sub/tandem.db"
    _one_line(run("serve", TANDEM_DATABASE_URL=url), "cannot create")


def test_port_in_use(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = run(
            "serve",
            "--port",
            str(port),
            TANDEM_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/t.db",
            TANDEM_TRY_CHANNEL="on",
        )
    _one_line(result, "already in use")
