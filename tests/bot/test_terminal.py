"""`tandem chat` beside a server on one database: the server never claims (and so never
swallows) the terminal's replies, two terminals never take each other's, and `--new` starts the
conversation over as a new patient while keeping the old one, ended, for the console."""

from __future__ import annotations

import asyncio
import io

from sqlalchemy import select

from bot.channels.base import OutboundMessage
from bot.channels.trychat import TERMINAL, TerminalChannel, TryChannel
from bot.clock import FakeClock, SystemClock
from bot.outbox import Dispatcher, DispatcherConfig
from bot.service import Tandem
from bot.settings import Settings
from bot.startover import start_over
from bot.terminal import chat
from storage.models import ChannelIdentity, FlowRun, Message, OutboxItem, Patient
from tests.helpers import say


async def _statuses(tandem: Tandem) -> dict[str, set[str]]:
    """The outbox rows' statuses by address."""
    found: dict[str, set[str]] = {}
    async with tandem.db.session() as session:
        for address, status in await session.execute(select(OutboxItem.address, OutboxItem.status)):
            found.setdefault(address, set()).add(status)
    return found


async def test_only_the_terminal_of_a_conversation_delivers_its_rows(
    tandem: Tandem, clock: FakeClock
) -> None:
    await say(tandem, "hello", address="web")  # a try-it (web) conversation
    await say(tandem, "hello", address="one", channel=TERMINAL)
    await say(tandem, "hello", address="two", channel=TERMINAL)

    # The server has a "try" channel: it sends the web chat's reply, not the terminals'.
    server = Dispatcher(tandem.db, {"try": TryChannel()}, clock)
    await server.drain()
    assert await _statuses(tandem) == {"web": {"sent"}, "one": {"pending"}, "two": {"pending"}}

    printed: list[OutboundMessage] = []
    one = Dispatcher(tandem.db, {TERMINAL: TerminalChannel(on_send=printed.append)}, clock)
    one.only = (TERMINAL, "one")
    await one.drain()
    assert printed and {m.address for m in printed} == {"one"}
    assert await _statuses(tandem) == {"web": {"sent"}, "one": {"sent"}, "two": {"pending"}}


async def test_chat_delivers_every_reply_while_a_server_dispatches(
    settings: Settings, tandem: Tandem
) -> None:
    """A server's dispatcher polls the same database the whole time and takes none of them."""
    server = Dispatcher(
        tandem.db, {"try": TryChannel()}, SystemClock(), DispatcherConfig(poll_interval=0.01)
    )
    stop = asyncio.Event()
    running = asyncio.create_task(server.run(stop))
    out = io.StringIO()
    try:
        assert await chat(settings, "demo", io.StringIO("hi\nyes\nSam\n"), out) == 0
    finally:
        stop.set()
        await running
    printed = [line for line in out.getvalue().splitlines() if line.startswith("tandem> ")]
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Message.body)
            .where(Message.channel == TERMINAL, Message.direction == "out")
            .order_by(Message.id)
        )
        sent = [f"tandem> {body}" for body in rows.scalars()]
    assert len(sent) >= 3 and printed == sent
    assert "tandem> Welcome! What name would you like me to call you?" in printed


async def test_new_starts_over_as_a_new_patient_and_keeps_the_old_one_ended(
    settings: Settings, tandem: Tandem
) -> None:
    first = io.StringIO()
    await chat(settings, "demo", io.StringIO("hi\nyes\n"), first)
    again = io.StringIO()
    await chat(settings, "demo", io.StringIO("hi\n"), again, new=True)
    opening = [ln for ln in first.getvalue().splitlines() if ln.startswith("tandem> ")]
    restarted = [ln for ln in again.getvalue().splitlines() if ln.startswith("tandem> ")]
    assert "Started a new conversation" in again.getvalue()
    assert restarted[0] == opening[0]  # the very first message again: consent from the start

    async with tandem.db.session() as session:
        patients = list(
            (await session.execute(select(Patient).order_by(Patient.created_at))).scalars()
        )
        identities = {
            i.patient_id: i.address
            for i in (await session.execute(select(ChannelIdentity))).scalars()
        }
        old_runs = set(
            (
                await session.execute(
                    select(FlowRun.status).where(FlowRun.patient_id == patients[0].id)
                )
            ).scalars()
        )
    assert [p.status for p in patients] == ["discharged", "active"]
    assert identities[patients[1].id] == "demo"
    assert identities[patients[0].id].startswith("demo~ended-")
    assert old_runs == {"ended"}
    assert not await start_over(tandem.db, tandem.clock.now(), TERMINAL, "nobody")
