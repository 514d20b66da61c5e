"""The lean inbound path: a patient answering a flow question costs a handful of statements,
no savepoints, and a failing step still leaves the message marked failed (the careful redo)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from bot.service import Tandem
from storage.models import Message
from tests.bot.coaching.test_crisis import onboard
from tests.helpers import outbound, say


@contextmanager
def statements(tandem: Tandem) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    engine = tandem.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_flow_answer_takes_few_statements_and_no_savepoint(tandem: Tandem) -> None:
    await tandem.migrate()
    patient_id = await onboard(tandem)
    await say(tandem, "Check in now")  # the menu label: into a check-in question
    before = len(await outbound(tandem, patient_id))
    with statements(tandem) as seen:
        await say(tandem, "6")
    assert len(await outbound(tandem, patient_id)) > before  # answered
    assert "SAVEPOINT" not in seen
    # Lock and reads, store (+ pending on SQLite), run update, events, outbound messages,
    # outbox, status, and BEGIN on SQLite: the ORM path took 16 plus BEGIN and COMMIT.
    assert len(seen) <= 9, seen


async def test_a_failing_step_is_redone_carefully_and_marked_failed(
    tandem: Tandem, monkeypatch: Any
) -> None:
    await tandem.migrate()
    patient_id = await onboard(tandem)

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("engine down")

    monkeypatch.setattr(tandem.pipeline, "advance", broken)
    receipt = await say(tandem, "6")
    async with tandem.db.session() as session:
        message = await session.get(Message, receipt.message_id)
        assert message is not None
        assert (message.status, message.error) == ("failed", "RuntimeError: engine down")
        stored = await session.scalar(
            select(Message.id).where(Message.patient_id == patient_id, Message.body == "6")
        )
    assert stored == receipt.message_id  # stored once, not twice
