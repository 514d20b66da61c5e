"""Every behavioural-activation text a patient actually receives in the recorded conversations
fits in 3 SMS segments (Spanish is UCS-2: 201 characters), rendered with real names and numbers
and with any numbered options. Lists of the patient's own activities are the exception (their
length is the patient's), as are the PHQ-9 items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import tests.transcript as transcript
from bot.channels.sms_text import count_segments, normalize_gsm
from flows import model as m
from flows.engine import step as engine_step
from flows.library import FlowLibrary

ROOT = Path(__file__).parents[1] / "transcripts"
FILES = sorted(p for p in ROOT.rglob("*.txt") if p.parent.name.startswith("ba_"))
LIBRARY = FlowLibrary.load()
LISTS = {"ba_plan.pick_ask", "ba_values.ranked"}  # the patient's own list, numbered


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_ba_texts_fit_three_segments(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[m.Send] = []

    def recording_step(*args: Any) -> m.StepResult:
        result = engine_step(*args)
        sent.extend(a for a in result.actions if isinstance(a, m.Send))
        return result

    monkeypatch.setattr(transcript, "step", recording_step)
    transcript.replay(LIBRARY, transcript.parse(path))
    # The PHQ-9 items are the validated wording, owned by the measure, not by these flows.
    own = [
        s for s in sent if s.key.startswith("ba_") and s.key not in LISTS and ".phq9." not in s.key
    ]
    for send in own:
        encoding, segments = count_segments(normalize_gsm(send.text))
        assert segments <= 3, f"{send.key} needs {segments} {encoding} segments: {send.text!r}"
