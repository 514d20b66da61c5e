"""The inbound chain: the links every patient message passes, in stage order, before any flow
logic. All links are registered in one place (`bot/service.py`, `Tandem.__init__`).

A link returns a `Result`:
- CONTINUE: not this link's message; the next link sees it.
- HANDLED: answered; no later link and no flow sees it.
- HOLD: safety answered it (a crisis reply, a safety-check answer); the turn is marked held,
  the compliance links before TAKEOVER still see it (STOP must always work), the takeover link
  then ends the chain, and the flow engine never sees it.

Safety links (stages up to SAFETY) run in a savepoint of their own on the careful path, so what
they did survives a later link or the flow step failing (bot/pipeline.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from enum import Enum, IntEnum

from bot.actions import Turn
from storage.models import Message


class Stage(IntEnum):
    SAFETY = 10  # risk detection and safety checks: always first (bot/coaching/safety.py)
    OPT_OUT = 20  # STOP, START, HELP (bot/optout.py)
    KEYWORDS = 25  # language, country, Spanish help words (bot/keywords.py)
    TAKEOVER = 30  # a coach holds the conversation; a held turn ends here (bot/coaching)
    COMMANDS = 40  # PAUSE, TIME and other scheduling commands (bot/scheduling/handlers.py)
    WORRY_LOG = 45  # a worry parked for later (bot/worrylog.py)
    MENU = 50  # the program menu (bot/menu.py)


class Result(Enum):
    CONTINUE = "continue"
    HANDLED = "handled"
    HOLD = "hold"


Link = Callable[[Turn, Message], Awaitable[Result]]


class Chain:
    """Links ordered by stage; links of one stage keep the order they were added in."""

    def __init__(self) -> None:
        self._links: list[tuple[int, Link]] = []

    def add(self, stage: int, link: Link) -> None:
        index = sum(1 for existing, _ in self._links if existing <= stage)
        self._links.insert(index, (stage, link))

    def remove(self, link: Link) -> None:
        self._links = [(stage, existing) for stage, existing in self._links if existing != link]

    def safety(self) -> list[Link]:
        return [link for stage, link in self._links if stage <= Stage.SAFETY]

    def rest(self) -> list[Link]:
        return [link for stage, link in self._links if stage > Stage.SAFETY]

    def __iter__(self) -> Iterator[tuple[int, Link]]:
        return iter(list(self._links))
