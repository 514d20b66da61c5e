"""The program menu: "menu" / "menú" at any wait lists what the patient can do now.

Entries come from the flows' own `menu:` blocks (see flows/menu.py for the contract). The menu is
open for exactly one reply: a number, a label or a button starts that flow (the run that was
waiting ends as "interrupted"); BACK repeats the last question so the waiting run carries on; any
other reply goes to the waiting run as usual. The open menu is kept on the patient row
(`menu_state`: the message that opened it, its entries and the last question), so it survives
restarts and other processes and costs the common message no look-up; `menu_shown` still goes to
the event log for the record.

Typing an entry's label at any time ("Worry time", "worry questions gad7": case, accents, spaces
and punctuation do not matter) starts that entry too, unless the waiting question offers an
option of that name. A consented patient with nothing waiting (no active run) who writes gets a
short menu instead of an unasked check-in.

The onboarding baseline (`onboarding`, and `program` with its screeners) is not dropped by the
menu: the waiting run is ended as "interrupted" as usual, but `menu_state["resume"]` keeps its
row, and once the chosen flow has ended that row waits again and its question is asked again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.actions import Turn
from bot.chain import Result
from bot.facts import program_fact
from flows import model as m
from flows.answers import Option, fold, parse_choice
from flows.menu import MenuEntry, entries
from flows.steps.choose import ChooseStep
from flows.steps.question import QuestionStep
from flows.texts import text
from storage import repo
from storage.models import FlowRun, Message
from storage.statuses import RunStatus

MENU_WORDS = {"menu", "menu please", "show menu", "options", "opciones", "ver menu"}
BACK_WORDS = {"back", "go back", "continue", "carry on", "volver", "seguir", "continuar", "0"}
PAYLOAD_PREFIX = "menu:"
RESUMABLE = frozenset({"onboarding", "program"})  # the baseline: comes back after the menu


def _text(turn: Turn, key: str) -> str:
    return text(f"common.{key}", turn.patient.locale)


def label_key(text: str) -> str:
    """What two spellings of a label share: folded, without spaces ("GAD-7" == "gad7")."""
    return fold(text).replace(" ", "")


async def _visible(turn: Turn) -> list[MenuEntry]:
    program = await program_fact(turn.session, turn.patient.id)
    return entries(turn.pipeline.library, program, turn.patient.locale)


async def typed_label(turn: Turn, message: Message) -> MenuEntry | None:
    """The menu entry whose label the message is, if it is one the patient can see."""
    said = label_key(message.body or "")
    if not said or message.payload or len(said) > 80:
        return None
    return next((e for e in await _visible(turn) if label_key(e.label) == said), None)


async def _waiting_option(turn: Turn, message: Message) -> bool:
    """True when the waiting question itself offers what the patient typed."""
    row = await repo.peek_active_run(turn.session, turn.patient.id)
    library = turn.pipeline.library
    if row is None or not library.has_version(row.flow_id, row.flow_version):
        return False
    flow = library.get(row.flow_id, row.flow_version)
    step = flow.steps.get(row.state)
    if isinstance(step, QuestionStep) and step.answer.type == "choice":
        options = [Option(o.value, o.label, o.synonyms) for o in step.answer.options]
        labels = {o.label: flow.text(o.label, turn.patient.locale) for o in step.answer.options}
        return parse_choice(message.body, None, options, labels) is not None
    return isinstance(step, ChooseStep)


async def _idle(turn: Turn) -> bool:
    row = await repo.peek_active_run(turn.session, turn.patient.id)
    return row is None or row.status == RunStatus.ENDED


async def _open_menu(turn: Turn, message: Message, *, header: str = "menu_header") -> None:
    listed = await _visible(turn)
    last_out = await turn.session.scalar(
        select(Message.id)
        .where(Message.patient_id == turn.patient.id, Message.direction == "out")
        .order_by(Message.id.desc())
        .limit(1)
    )
    lines = [_text(turn, header)]
    lines += [f"{i + 1} {entry.label}" for i, entry in enumerate(listed)]
    if header == "menu_header":
        lines.append(_text(turn, "menu_back"))
    choices = [{"label": e.label, "value": PAYLOAD_PREFIX + e.flow_id} for e in listed]
    await turn.send("\n".join(lines), choices=choices)
    shown = {"message_id": message.id, "entries": [e.flow_id for e in listed], "last_out": last_out}
    await turn.log("menu_shown", shown)
    turn.patient.menu_state = {**shown, **_keep_resume(turn)}


async def _open_menu_state(turn: Turn, message: Message) -> dict[str, Any] | None:
    """The menu the patient's previous message opened, if it did (cleared once read)."""
    shown = turn.patient.menu_state
    if shown is None:
        return None
    # Open for exactly one reply: whatever happens to this one, the menu is closed after it.
    turn.patient.menu_state = _keep_resume(turn) or None
    if "message_id" not in shown:
        return None
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
    return next((e for e in listed if label_key(e.label) == label_key(message.body)), None)


async def menu_interceptor(turn: Turn, message: Message) -> Result:
    """Show the menu, or act on the reply to it; False lets the message through to the flow."""
    if turn.patient.consent_given is not True:
        return Result.CONTINUE
    said = fold(message.body or "")
    if said in MENU_WORDS and not message.payload:
        await _open_menu(turn, message)
        return Result.HANDLED
    shown = await _open_menu_state(turn, message)
    if shown is not None:
        listed = [e for e in await _visible(turn) if e.flow_id in set(shown.get("entries", []))]
        entry = _chosen(message, listed)
        if entry is not None:
            last_out = shown.get("last_out")
            await _start(
                turn, entry, "menu_chosen", last_out if isinstance(last_out, int) else None
            )
            return Result.HANDLED
        if said in BACK_WORDS:
            await _back(turn, shown)
            return Result.HANDLED
    typed = await typed_label(turn, message)
    if typed is not None and not await _waiting_option(turn, message):
        await _start(turn, typed, "menu_label_typed")
        return Result.HANDLED
    idle = await _idle(turn)
    if _keep_resume(turn) and not turn.patient.bot_paused:
        if idle:
            return Result.HANDLED if await _resume(turn) else Result.CONTINUE
        # The chosen flow is running: step it here, so the baseline comes back when it ends.
        result = await turn.pipeline.advance(turn, m.Text(message.body, message.payload))
        if result.run is None or result.run.status == RunStatus.ENDED:
            await _resume(turn)
        return Result.HANDLED
    if idle:
        # Nothing asked the patient anything: answer with what they can do, not a check-in.
        await _open_menu(turn, message, header="menu_idle")
        return Result.HANDLED
    return Result.CONTINUE


def _keep_resume(turn: Turn) -> dict[str, Any]:
    state = turn.patient.menu_state or {}
    return {"resume": state["resume"]} if state.get("resume") else {}


async def _start(turn: Turn, entry: MenuEntry, event: str, asked: int | None = None) -> None:
    """Start the entry; a waiting baseline run is kept to resume, with `asked` (the message
    that asked its question, else the latest one sent) to ask again."""
    await turn.log(event, {"flow": entry.flow_id})
    row = await repo.peek_active_run(turn.session, turn.patient.id)
    if row is not None and row.flow_id in RESUMABLE and row.status == RunStatus.WAITING:
        sent = select(Message.body).where(
            Message.patient_id == turn.patient.id, Message.direction == "out"
        )
        if asked is not None:
            sent = sent.where(Message.id == asked)
        question = await turn.session.scalar(sent.order_by(Message.id.desc()).limit(1))
        resume = {"run": row.id, "question": question or ""}
        turn.patient.menu_state = {**(turn.patient.menu_state or {}), "resume": resume}
    result = await turn.pipeline.advance(turn, m.Start(entry.flow_id))
    if result.run is None or result.run.status == RunStatus.ENDED:
        await _resume(turn)


async def _resume(turn: Turn) -> bool:
    """Put the interrupted baseline run back to waiting and ask its question again."""
    resume = _keep_resume(turn).get("resume")
    if not resume or turn.patient.bot_paused:
        return False
    rest = {k: v for k, v in (turn.patient.menu_state or {}).items() if k != "resume"}
    turn.patient.menu_state = rest or None
    row = await turn.session.get(FlowRun, resume.get("run"))
    if row is None or row.status != RunStatus.ENDED or row.outcome != "interrupted":
        return False
    if row.timeout_at is not None and row.waiting_since is not None:
        row.timeout_at = turn.now + (row.timeout_at - row.waiting_since)
    row.status, row.outcome, row.ended_at = RunStatus.WAITING, None, None
    row.waiting_since = row.updated_at = turn.now
    await turn.session.flush()
    await turn.log("menu_resumed", {"flow": row.flow_id})
    question = resume.get("question") or ""
    text = _text(turn, "menu_baseline_resume")
    await turn.send(f"{text}\n{question}" if question else text)
    return True


async def _back(turn: Turn, shown: dict[str, Any]) -> None:
    last_out = shown.get("last_out")
    body = None
    if isinstance(last_out, int):
        body = await turn.session.scalar(select(Message.body).where(Message.id == last_out))
    text = _text(turn, "menu_resume")
    await turn.send(f"{text}\n{body}" if body else text)
    await turn.log("menu_closed", {})
