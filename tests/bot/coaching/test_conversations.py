"""Safety conversations a clinician can read, replayed through the real pipeline and database:
every file under transcripts/ replays exactly (`pytest --regen-transcripts` rewrites the output
lines after a reviewed change)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from tests.bot.coaching.conversation import OUTPUT, parse, render, replay

ROOT = Path(__file__).parent / "transcripts"
FILES = sorted(ROOT.glob("*.txt"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_safety_conversation(path: Path, db_url: str, request: pytest.FixtureRequest) -> None:
    head, header, lines = parse(path)
    script = [line for line in lines if not line.startswith(OUTPUT)]
    clock = FakeClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    tandem = Tandem(Settings(database_url=db_url, try_channel="on"), clock=clock)
    try:
        actual = await replay(tandem, clock, header, script)
    finally:
        await tandem.close()
    if request.config.getoption("--regen-transcripts"):
        path.write_text(render(head, actual), encoding="utf-8")
        return
    assert render(head, actual) == render(head, lines), f"{path.name} no longer matches"
