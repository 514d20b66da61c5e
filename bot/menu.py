"""The program menu: "menu" / "menú" at any wait lists what the patient can do now.

Entries come from the flows' own `menu:` blocks (see flows/menu.py for the contract). The menu is
open for exactly one reply: a number, a label or a button starts that flow (the run that was
waiting ends as "interrupted"); BACK repeats the last question so the waiting run carries on; any
other reply goes to the waiting run as usual. The open menu is kept on the patient row
(`menu_state`: the message that opened it, its entries and the last question), so it survives
restarts and other processes and costs the common message no look-up; `menu_shown` still goes to
the event log for the record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.actions import Turn
from bot.facts import load_facts
from flows import model as m
from flows.answers import fold
from flows.menu import MenuEntry, entries
from storage.models import Message

MENU_WORDS = {"menu", "menu please", "show menu", "options", "opciones", "ver menu"}
BACK_WORDS = {"back", "go back", "continue", "carry on", "volver", "seguir", "continuar", "0"}
PAYLOAD_PREFIX = "menu:"


def _text(turn: Turn, key: str) -> str:
    library = turn.pipeline.library
    any_flow = next(iter(library.current.values()))
    return any_flow.text(f"common.{key}", turn.patient.locale)


async def _open_menu(turn: Turn, message: Message) -> None:
    facts = await load_facts(turn.session, turn.patient.id)
    listed = entries(turn.pipeline.library, facts.get("program"), turn.patient.locale)
    last_out = await turn.session.scalar(
        select(Message.id)
        .where(Message.patient_id == turn.patient.id, Message.direction == "out")
        .order_by(Message.id.desc())
        .limit(1)
    )
    lines = [_text(turn, "menu_header")]
    lines += [f"{i + 1} {entry.label}" for i, entry in enumerate(listed)]
    lines.append(_text(turn, "menu_back"))
    choices = [{"label": e.label, "value": PAYLOAD_PREFIX + e.flow_id} for e in listed]
    await turn.send("\n".join(lines), choices=choices)
    shown = {"message_id": message.id, "entries": [e.flow_id for e in listed], "last_out": last_out}
    turn.patient.menu_state = shown
    await turn.log("menu_shown", shown)


async def _open_menu_state(turn: Turn, message: Message) -> dict[str, Any] | None:
    """The menu the patient's previous message opened, if it did (cleared once read)."""
    shown = turn.patient.menu_state
    if shown is None:
        return None
    # Open for exactly one reply: whatever happens to this one, the menu is closed after it.
    turn.patient.menu_state = None
    previous = await turn.session.scalar(
        select(Message.id)
        .where(
            Message.patient_id == turn.patient.id,
            Message.direction == "in",
            Message.id < message.id,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    if previous is None or shown.get("message_id") != previous:
        return None
    return shown


def _chosen(message: Message, listed: list[MenuEntry]) -> MenuEntry | None:
    if message.payload and message.payload.startswith(PAYLOAD_PREFIX):
        flow_id = message.payload[len(PAYLOAD_PREFIX) :]
        return next((e for e in listed if e.flow_id == flow_id), None)
    said = fold(message.body)
    if said.isdigit() and 1 <= int(said) <= len(listed):
        return listed[int(said) - 1]
    return next((e for e in listed if fold(e.label) == said), None)


async def menu_interceptor(turn: Turn, message: Message) -> bool:
    """Show the menu, or act on the reply to it; False lets the message through to the flow."""
    if turn.patient.consent_given is not True:
        return False
    said = fold(message.body or "")
    if said in MENU_WORDS and not message.payload:
        await _open_menu(turn, message)
        return True
    shown = await _open_menu_state(turn, message)
    if shown is None:
        return False
    facts = await load_facts(turn.session, turn.patient.id)
    listed = entries(turn.pipeline.library, facts.get("program"), turn.patient.locale)
    listed = [e for e in listed if e.flow_id in set(shown.get("entries", []))]
    entry = _chosen(message, listed)
    if entry is not None:
        await turn.log("menu_chosen", {"flow": entry.flow_id})
        await turn.pipeline.advance(turn, m.Start(entry.flow_id))
        return True
    if said in BACK_WORDS:
        await _back(turn, shown)
        return True
    return False


async def _back(turn: Turn, shown: dict[str, Any]) -> None:
    last_out = shown.get("last_out")
    body = None
    if isinstance(last_out, int):
        body = await turn.session.scalar(select(Message.body).where(Message.id == last_out))
    text = _text(turn, "menu_resume")
    await turn.send(f"{text}\n{body}" if body else text)
    await turn.log("menu_closed", {})
