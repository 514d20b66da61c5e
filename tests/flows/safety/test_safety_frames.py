"""Frames that turn a matched phrase into everyday talk, and the ones that must not."""

from __future__ import annotations

import pytest

from flows.safety import assess


@pytest.mark.parametrize(
    "text",
    [
        "5 years clean from self harm today and I'm so proud of myself",
        "hace 3 años que intenté quitarme la vida, hoy estoy bien y agradecida",
        "my sister ate my fries, i'm gonna strangle her lol",
        "giving away my old books before the move, anyone want them?",
        "bought rope and a tent for the camping trip",
        "last day at work today, goodbye everyone, it was a great 4 years",
        "in the game you have to jump off the bridge to reach the next level",
        "gonna sleep and not wake up until noon tomorrow",
        "give my pills to my sister Ana to keep",
        "mi hermano guarda mis pastillas bajo llave",
    ],
)
def test_everyday_frames_stay_quiet(text: str) -> None:
    assert not assess(text).urgent, text


@pytest.mark.parametrize(
    "text",
    [
        "i tried to kill myself 2 years ago and today i want to try again",
        "hace un año lo intenté y esta vez no voy a fallar",
        "i want to die lol",
        "giving away my things because i won't need them after tonight",
        "im at the bridge and i dont want to go back",
        "i want to keep my pills so i have enough to end it",
    ],
)
def test_frames_never_hide_a_present_danger(text: str) -> None:
    assert assess(text).urgent, text
