"""The safety check's reading of replies: a table of what patients write and what it means."""

from __future__ import annotations

import pytest

from bot.coaching.screener import Check, Step, answer, interpret, outcome

AT = "2026-03-02T12:00:00+00:00"


@pytest.mark.parametrize(
    ("step", "reply", "meaning"),
    [
        ("safe_now", "yes", True),
        ("safe_now", "Yes I'm safe", True),
        ("safe_now", "sí", True),
        ("safe_now", "estoy a salvo", True),
        ("safe_now", "no", False),
        ("safe_now", "I'm not safe", False),
        ("safe_now", "no estoy a salvo", False),
        # Not answers: "ok", "fine", an emoji, a hedge about safety.
        ("safe_now", "ok", None),
        ("safe_now", "fine", None),
        ("safe_now", "I'm fine", None),
        ("safe_now", "👍", None),
        ("safe_now", "maybe", None),
        ("safe_now", "idk", None),
        ("thoughts", "yes", True),
        ("thoughts", "sometimes", True),
        ("thoughts", "a veces", True),
        ("thoughts", "once or twice", True),
        ("thoughts", "kinda", True),
        ("thoughts", "no", False),
        ("thoughts", "never", False),
        ("thoughts", "nunca", False),
        ("thoughts", "no, not really", False),
        ("thoughts", "no but sometimes", None),
        ("thoughts", "ok", None),
        ("prepared", "yes I have", True),
        ("prepared", "no i haven't", False),
        ("prepared", "lol", None),
    ],
)
def test_interpret(step: Step, reply: str, meaning: bool | None) -> None:
    assert interpret(step, reply) is meaning


def test_unclear_is_asked_once_then_counted_unsafe() -> None:
    check = Check(level="risk")
    first = answer(check, "ok", at=AT)
    assert first.reask and first.recorded is None and check.step == "safe_now"
    second = answer(check, "ok", at=AT)
    assert second.outcome == "in_danger"
    assert check.answers == [{"step": "safe_now", "yes": False, "interpreted": True, "at": AT}]


def test_risk_words_in_an_unclear_reply_count_at_once() -> None:
    check = Check(level="risk", step="thoughts")
    reply = answer(check, "whatever, i just want it over", at=AT, risk_in_text=True)
    assert not reply.reask and reply.recorded == {
        "step": "thoughts",
        "yes": True,
        "interpreted": True,
        "at": AT,
    }
    assert reply.next_step == "plan"


@pytest.mark.parametrize(
    ("replies", "steps", "result"),
    [
        (["yes", "no", "no"], ["safe_now", "thoughts", "prepared"], "low"),
        (["yes", "yes", "no", "no", "no"], ["safe_now", "thoughts", "plan", "intent", "prepared"],
         "moderate"),
        (["yes", "yes", "yes", "no", "no"], ["safe_now", "thoughts", "plan", "intent", "prepared"],
         "high"),
        (["yes", "no", "yes"], ["safe_now", "thoughts", "prepared"], "high"),
        (["no"], ["safe_now"], "in_danger"),
    ],
)  # fmt: skip
def test_the_screener_order_and_its_triage(
    replies: list[str], steps: list[str], result: str
) -> None:
    check = Check(level="concern")
    asked = []
    final = None
    for reply in replies:
        asked.append(check.step)
        final = answer(check, reply, at=AT)
    assert asked == steps
    assert final is not None and final.outcome == result == outcome(check)


def test_state_round_trips_through_json() -> None:
    check = Check(level="concern")
    answer(check, "yes", at=AT)
    again = Check.from_json(check.to_json())
    assert again == check
    assert Check.from_json({"step": "nonsense"}) is None
