"""Behavioural activation over weeks, through the real pipeline, scheduler and database with a
fake clock: monitoring asked about the right part of the day, the inventory, several plans a week
with their reminders and follow-ups, the weekly review built from the week's records, and at
week 8 the relapse-prevention plan and monthly boosters. Every file under transcripts/ replays
exactly (`pytest --regen-transcripts` rewrites the `[...]` lines; read the diff)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from tests.bot.scheduling.sim import parse, render, replay

ROOT = Path(__file__).parent / "transcripts"
FILES = sorted(ROOT.glob("*.txt"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_ba_weeks(path: Path, db_url: str, request: pytest.FixtureRequest) -> None:
    head, header, script, expected = parse(path)
    start = header["start"]
    start = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
    clock = FakeClock(start)
    settings = Settings(database_url=db_url, try_channel="on", **header.get("settings", {}))
    tandem = Tandem(settings, clock=clock)
    try:
        actual = await replay(tandem, clock, header, script)
    finally:
        await tandem.close()
    if request.config.getoption("--regen-transcripts"):
        path.write_text(render(head, actual), encoding="utf-8")
        return
    assert render(head, actual) == render(head, expected), f"{path.name} no longer matches"
