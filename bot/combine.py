"""At most three messages per turn: a burst of a flow's texts is combined before it is queued.

After a measure a turn can produce many texts in a row (the last answer, the patient's progress,
a thank-you, the next flow's introduction and its first question); a phone buzzing eight times is
a rough edge. `combine` joins consecutive texts of one engine step into at most `MAX_MESSAGES`
messages, splitting where the parts are most even. It never touches what must stay apart:

- urgent texts (crisis resources) and anything an `Escalate` may send break a run, so the order
  of what the patient sees is unchanged;
- a text with quick replies (buttons) can only end a message, so the buttons stay on the
  question they belong to;
- no combined message goes over `MAX_CHARS` (Twilio's body limit is 1,600 characters); when
  that cannot be met in three, more messages are used.

Runs of three texts or fewer are left exactly as they are. Actions other than sends (records,
transitions, schedules) keep their places.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from flows import model as m

MAX_MESSAGES = 3
MAX_CHARS = 1600
SEPARATOR = "\n\n"
# Actions that neither send anything nor depend on what was sent before them.
_QUIET = (
    m.RecordAnswer,
    m.RecordMeasure,
    m.MeasureScored,
    m.Transition,
    m.FlowEnded,
    m.UpdatePatient,
    m.Schedule,
)


def _length(group: Sequence[m.Send]) -> int:
    return sum(len(s.text) for s in group) + len(SEPARATOR) * (len(group) - 1)


def _merge(group: Sequence[m.Send]) -> m.Send:
    if len(group) == 1:
        return group[0]
    return m.Send(
        SEPARATOR.join(s.text for s in group),
        choices=group[-1].choices,
        key="+".join(s.key for s in group),
    )


def _valid(groups: list[list[m.Send]]) -> bool:
    return all(_length(g) <= MAX_CHARS and all(not s.choices for s in g[:-1]) for g in groups if g)


def _partition(sends: list[m.Send]) -> list[list[m.Send]]:
    """The split into at most MAX_MESSAGES valid groups with the shortest longest group."""
    n = len(sends)
    best: list[list[m.Send]] | None = None
    for k in range(1, MAX_MESSAGES):
        for cuts in itertools.combinations(range(1, n), k):
            bounds = (0, *cuts, n)
            groups = [sends[a:b] for a, b in itertools.pairwise(bounds)]
            if _valid(groups) and (
                best is None or max(map(_length, groups)) < max(map(_length, best))
            ):
                best = groups
        if best is not None and k + 1 == MAX_MESSAGES:
            break
    if best is not None:
        return best
    # Not possible in three: fill each message as far as the rules allow.
    out: list[list[m.Send]] = [[]]
    for send in sends:
        if out[-1] and not _valid([[*out[-1], send]]):
            out.append([])
        out[-1].append(send)
    return out


def _flush(run: list[m.Action], out: list[m.Action]) -> None:
    sends = [a for a in run if isinstance(a, m.Send)]
    if len(sends) <= MAX_MESSAGES:
        out.extend(run)
        return
    # Each combined message goes where its last part was.
    at_end: dict[int, m.Send] = {}
    position = 0
    for group in _partition(sends):
        position += len(group)
        at_end[position - 1] = _merge(group)
    seen = 0
    for action in run:
        if not isinstance(action, m.Send):
            out.append(action)
            continue
        if seen in at_end:
            out.append(at_end[seen])
        seen += 1


def combine(actions: Sequence[m.Action]) -> list[m.Action]:
    """`actions` with each run of more than three plain texts combined into three messages."""
    out: list[m.Action] = []
    run: list[m.Action] = []
    for action in actions:
        plain = isinstance(action, m.Send) and not action.urgent
        if plain or (run and isinstance(action, _QUIET)):
            run.append(action)
        else:
            _flush(run, out)
            run = []
            out.append(action)
    _flush(run, out)
    return out
