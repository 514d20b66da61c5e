"""The burst rule: a turn's run of more than three plain texts becomes at most three messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.combine import MAX_CHARS, combine
from flows import model as m


def send(text: str, **kw: Any) -> m.Send:
    return m.Send(text, key=f"k.{text[:8]}", **kw)


def texts(actions: Sequence[m.Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, m.Send)]


def test_three_or_fewer_are_left_alone() -> None:
    actions: list[m.Action] = [send("a"), m.RecordMeasure("phq9", 1, 2), send("b"), send("c")]
    assert combine(actions) == actions


def test_eight_after_a_measure_become_three_in_order_with_records_kept() -> None:
    question = m.Send("Q?", choices=(("Yes", "yes"), ("No", "no")), key="k.q")
    actions: list[m.Action] = [
        m.RecordMeasure("gad7", 7, 1),
        m.MeasureScored("gad7", 9, "mild"),
        send("Your score is 9 out of 21."),
        send("Thank you."),
        m.FlowEnded("measure_gad7", "completed"),
        send("one " * 20),
        send("two " * 20),
        send("three " * 20),
        send("four"),
        send("five"),
        question,
    ]
    out = combine(actions)
    sent = [a for a in out if isinstance(a, m.Send)]
    assert len(sent) == 3
    joined = "\n\n".join(texts(out))
    assert joined == "\n\n".join(texts(actions))  # nothing lost, nothing reordered
    assert sent[-1].choices == question.choices and sent[-1].text.endswith("Q?")
    assert all(not s.choices for s in sent[:-1])
    assert [a for a in out if not isinstance(a, m.Send)] == [
        a for a in actions if not isinstance(a, m.Send)
    ]
    assert "+" in sent[0].key  # every part's content key stays in the audit trail


def test_urgent_texts_and_escalations_are_never_merged_or_moved() -> None:
    crisis = m.Send("Call 988", urgent=True, key="k.crisis")
    actions: list[m.Action] = [send(str(i)) for i in range(4)]
    actions += [m.Escalate("risk", "urgent"), crisis]
    actions += [send(str(i)) for i in range(4, 8)]
    out = combine(actions)
    assert out[out.index(crisis) - 1] == m.Escalate("risk", "urgent")
    before = out[: out.index(m.Escalate("risk", "urgent"))]
    after = out[out.index(crisis) + 1 :]
    assert 2 <= len(before) <= 3 and 2 <= len(after) <= 3
    assert texts(before) and "\n\n".join(texts(before)) == "0\n\n1\n\n2\n\n3"
    assert all(not s.urgent for s in before + after if isinstance(s, m.Send))


def test_a_question_in_the_middle_ends_its_message() -> None:
    q = m.Send("Q1?", choices=(("a", "1"),), key="k.q1")
    out = combine([send("a"), q, send("b"), send("c"), send("d")])
    sent = [a for a in out if isinstance(a, m.Send)]
    assert len(sent) == 3 and sent[0].text == "a\n\nQ1?" and sent[0].choices == q.choices


def test_never_longer_than_the_sms_body_limit() -> None:
    long = [send(str(i) * 700) for i in range(8)]
    out = combine(long)
    sent = [a for a in out if isinstance(a, m.Send)]
    assert all(len(s.text) <= MAX_CHARS for s in sent)
    assert len(sent) == 4  # two 700-character texts per message: three cannot hold them
    assert "\n\n".join(texts(out)) == "\n\n".join(texts(long))
