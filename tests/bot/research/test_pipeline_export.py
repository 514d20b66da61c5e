"""The export of a conversation that really went through the pipeline (try-it channel):
onboarding with the program screen, then a check-in from the menu. The real engine's events
land in the files as documented, and nothing the patient typed or was called leaves."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.research.export import FILES, Request, write_export
from bot.research.people import Window
from bot.service import Tandem
from tests.helpers import say

SCRIPT = ["hi", "yes", "Sam", "9am", "0", "1", "0", "0", "2", "menu", "Check in now", "6"]


async def test_a_real_conversation_exports_without_a_word_of_it(
    tandem: Tandem, tmp_path: Path
) -> None:
    for text in SCRIPT:
        await say(tandem, text, address="zq-4471-secret-address")
    await say(tandem, "slept ok, walked with Quentin", address="zq-4471-secret-address")
    assert isinstance(tandem.clock, FakeClock)
    tandem.clock.advance(timedelta(hours=1))
    out = tmp_path / "export"
    request = Request(Window(), False, "cli")
    assert await write_export(tandem.db, out, request, now=tandem.clock.now(), key="k") == 1

    with (out / "participants.csv").open() as handle:
        [participant] = list(csv.DictReader(handle))
    assert participant["arm"] == "" and participant["status"] == "active"
    with (out / "engagement.csv").open() as handle:
        [today] = list(csv.DictReader(handle))
    assert today["participant_id"] == participant["participant_id"]
    assert int(today["messages_in"]) == len(SCRIPT) + 1
    assert int(today["messages_out"]) >= len(SCRIPT)
    assert today["checkins_done"] == "1" and today["coach_messages"] == "0"
    with (out / "measures.csv").open() as handle:
        screen = list(csv.DictReader(handle))
    # The program screen's PHQ-2 and GAD-2, item by item, each with the screen's total.
    assert {r["instrument"] for r in screen} >= {"phq2"}
    assert all(r["total"] != "" for r in screen)
    everything = "".join((out / name).read_text() for name in FILES).lower()
    for secret in ("sam", "quentin", "slept ok", "zq-4471", "9am"):
        assert secret not in everything, secret
