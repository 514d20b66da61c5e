"""Small helpers tests share: sending a patient message and reading what the bot sent."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.base import InboundMessage
from bot.pipeline import Receipt
from bot.service import Tandem
from storage.models import Message


async def say(
    tandem: Tandem,
    text: str,
    *,
    address: str = "alice",
    channel: str = "try",
    mid: str | None = None,
) -> Receipt:
    return await tandem.pipeline.receive(
        InboundMessage(
            channel=channel,
            address=address,
            text=text,
            provider_message_id=mid,
            received_at=tandem.clock.now(),
        )
    )


async def outbound(tandem: Tandem, patient_id: str, *, after: int = 0) -> list[str]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Message.body)
            .where(Message.patient_id == patient_id, Message.direction == "out", Message.id > after)
            .order_by(Message.id)
        )
        return list(rows.scalars())


async def last_id(tandem: Tandem) -> int:
    async with tandem.db.session() as session:
        rows = await session.execute(select(Message.id).order_by(Message.id.desc()).limit(1))
        return rows.scalar_one_or_none() or 0
