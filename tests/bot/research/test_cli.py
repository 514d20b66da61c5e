"""`tandem export`: writes the files with a progress line, names a bad argument, and is audited."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
from pathlib import Path

from sqlalchemy import select

from bot.research.cli import ProgressLine, run
from bot.research.export import FILES
from bot.settings import Settings
from storage.db import Database
from storage.models import Event
from tests.bot.research.seed import seed
from tests.e2e.server import TANDEM


def _args(out: Path, **kw: object) -> argparse.Namespace:
    return argparse.Namespace(out=str(out), since=None, until=None, identified=False, **kw)


async def test_export_writes_the_files_and_reports_progress(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    await seed(database, patients=2, weeks=1)
    out, err = io.StringIO(), io.StringIO()
    code = await run(_args(tmp_path / "study"), settings, out, err)
    assert code == 0, err.getvalue()
    assert out.getvalue() == f"wrote 6 files for 4 participants to {tmp_path / 'study'}\n"
    assert "export: 4/4 participants (100%)" in err.getvalue()
    assert "TANDEM_RESEARCH_KEY is not set" in err.getvalue()
    assert (tmp_path / "study" / "fhir" / "Observation.ndjson").stat().st_size > 0
    async with database.session() as session:
        [event] = await session.execute(select(Event).where(Event.kind == "research_export"))
        assert event[0].data["by"] == "cli"


async def test_bad_arguments_are_named(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    err = io.StringIO()
    args = _args(tmp_path / "x")
    args.since = "last week"
    assert await run(args, settings, io.StringIO(), err) == 2
    assert "since must be an ISO date or date-time" in err.getvalue()
    (tmp_path / "file").write_text("")
    err = io.StringIO()
    assert await run(_args(tmp_path / "file"), settings, io.StringIO(), err) == 2
    assert "exists and is not a folder" in err.getvalue()
    err = io.StringIO()
    assert await run(_args(tmp_path / "file" / "below"), settings, io.StringIO(), err) == 1
    assert f"cannot write the export to {tmp_path / 'file' / 'below'}" in err.getvalue()
    async with database.session() as session:
        assert not (await session.execute(select(Event))).first()  # nothing was exported


def test_progress_draws_a_bar_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    progress = ProgressLine(stream)
    progress(0, 4)
    progress(2, 4)
    progress(4, 4)
    lines = stream.getvalue().split("\r")
    assert lines[2] == f"export [{'#' * 15:<30}] 2/4 participants"
    assert lines[3].endswith("4/4 participants\n")


async def test_the_tandem_command_runs_the_export(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    await seed(database, patients=2, weeks=1)
    env = {**os.environ, "TANDEM_DATABASE_URL": db_url, "TANDEM_RESEARCH_KEY": "k" * 32}
    done = subprocess.run(
        [str(TANDEM), "export", "--out", str(tmp_path / "x"), "--since", "2026-01-01"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "export: 4/4 participants (100%)" in done.stderr
    assert "TANDEM_RESEARCH_KEY" not in done.stderr
    assert sorted(p.name for p in (tmp_path / "x").rglob("*.*")) == sorted(
        name.split("/")[-1] for name in FILES
    )
    missing = subprocess.run(
        [str(TANDEM), "export"], env=env, capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2 and "--out" in missing.stderr
