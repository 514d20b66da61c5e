"""Every recorded conversation under tests/transcripts replays exactly.

After a reviewed content change, `pytest tests/flows/test_transcripts.py --regen-transcripts`
rewrites the expected bot lines from what the flows now say; review the diff like any other.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.library import FlowLibrary
from tests.transcript import parse, render, replay

ROOT = Path(__file__).parents[1] / "transcripts"
FILES = sorted(ROOT.rglob("*.txt"))
LIBRARY = FlowLibrary.load()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_transcript(path: Path, request: pytest.FixtureRequest) -> None:
    transcript = parse(path)
    actual = render(transcript, replay(LIBRARY, transcript))
    if request.config.getoption("--regen-transcripts"):
        path.write_text(actual, encoding="utf-8")
        return
    expected = render(transcript, transcript.lines)
    assert actual == expected, f"{path.name} no longer matches; see the diff above"


def test_every_flow_has_transcripts_in_english_and_spanish() -> None:
    covered: dict[str, set[str]] = {}
    for path in FILES:
        header = parse(path).header
        covered.setdefault(str(header["flow"]), set()).add(str(header.get("locale", "en")))
    missing = {
        flow_id: {"en", "es"} - covered.get(flow_id, set())
        for flow_id in LIBRARY.current
        if {"en", "es"} - covered.get(flow_id, set())
    }
    assert not missing, f"flows without transcripts: {missing}"
