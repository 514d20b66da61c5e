"""The try-it channels, so anyone can use Tandem with no provider credentials: the web chat at
/try ("try") and `tandem chat` ("terminal"). Replies are "delivered" the moment the dispatcher
hands them over; the web page reads them back from the message table, the terminal prints them.

The terminal's rows have a channel of their own because only the terminal process can show
them: a server on the same database must never claim them (bot/outbox.py, PROCESS_LOCAL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import uuid4

from sqlalchemy import select, update

from bot.channels.base import OutboundMessage, SendResult
from storage import repo
from storage.db import Database
from storage.models import ChannelIdentity, FlowRun, Message, OutboxItem, ScheduleItem

NAME = "try"
TERMINAL = "terminal"
DEMO_CHANNELS = frozenset({NAME, TERMINAL})  # demos, not where patients are
MAX_TEXT = 2000
STARTED_OVER = "conversation started over"


class TryChannel:
    name = NAME

    def __init__(self, on_send: Callable[[OutboundMessage], None] | None = None) -> None:
        self._on_send = on_send

    async def send(self, message: OutboundMessage) -> SendResult:
        if self._on_send is not None:
            self._on_send(message)
        return SendResult(provider_message_id=f"try-{message.outbox_id}")


class TerminalChannel(TryChannel):
    name = TERMINAL


async def start_over(db: Database, now: datetime, channel: str, address: str) -> bool:
    """Retire the demo conversation at (channel, address) so the next message starts a new
    patient from the beginning (consent, onboarding). The old patient is kept, discharged, for
    the console: their identity moves to "<address>~ended-<time>", runs end, schedules and
    queued replies are cancelled. False when there was nothing to retire."""
    async with db.session() as session, session.begin():
        patient = await repo.find_patient(session, channel, address)
        if patient is None:
            return False
        patient = await repo.lock_patient(session, patient.id)
        assert patient is not None
        identity = (
            await session.execute(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == channel, ChannelIdentity.address == address
                )
            )
        ).scalar_one()
        identity.address = f"{address[:80]}~ended-{now:%Y%m%dT%H%M%S}-{uuid4().hex[:6]}"
        await session.execute(
            update(FlowRun)
            .where(FlowRun.patient_id == patient.id, FlowRun.status != "ended")
            .values(status="ended")
        )
        await session.execute(
            update(ScheduleItem)
            .where(ScheduleItem.patient_id == patient.id, ScheduleItem.status == "active")
            .values(status="cancelled", next_fire_at=None, updated_at=now)
        )
        cancelled = await session.execute(
            update(OutboxItem)
            .where(OutboxItem.patient_id == patient.id, OutboxItem.status == "pending")
            .values(status="cancelled", last_error=STARTED_OVER)
            .returning(OutboxItem.message_id)
            .execution_options(synchronize_session=False)
        )
        unsent = [mid for mid in cancelled.scalars() if mid is not None]
        if unsent:
            await session.execute(
                update(Message)
                .where(Message.id.in_(unsent))
                .values(status="failed", error=f"not sent: {STARTED_OVER}", updated_at=now)
                .execution_options(synchronize_session=False)
            )
        patient.status = "discharged"
        await repo.log(session, now, "chat_started_over", patient.id, {"channel": channel})
    return True
