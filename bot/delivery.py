"""Delivery receipts: stored once per (provider id, status), applied to the message only forwards.

Providers retry callbacks and may deliver them out of order ("delivered" before "sent"), so the
message's status only ever moves to a later stage; every receipt is still kept as history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import StatusUpdate
from storage import repo
from storage.models import DeliveryStatus, Message, ProviderRef
from storage.statuses import OutboundStatus

# Later stages outrank earlier ones; final outcomes share a rank so the first one stands. These
# are the providers' raw receipt statuses (Twilio spells "canceled" with one l), kept as they
# came in `delivery_statuses`.
_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
}
# What a receipt means for Tandem's own message (`OutboundStatus`): the provider's stages
# before acceptance are still "queued", a provider's cancel is a failure to deliver.
_OURS = {
    "accepted": OutboundStatus.QUEUED,
    "scheduled": OutboundStatus.QUEUED,
    "queued": OutboundStatus.QUEUED,
    "sending": OutboundStatus.QUEUED,
    "sent": OutboundStatus.SENT,
    "delivered": OutboundStatus.DELIVERED,
    "undelivered": OutboundStatus.UNDELIVERED,
    "failed": OutboundStatus.FAILED,
    "canceled": OutboundStatus.FAILED,
    "read": OutboundStatus.READ,
}


def rank(status: str) -> int:
    return _RANK.get(status, 0)


@dataclass(frozen=True)
class Applied:
    duplicate: bool  # this (provider id, status) was recorded before
    message_id: int | None  # None when the provider id is not one of ours
    patient_id: str | None
    changed: bool  # the message's status moved forward


async def record_status(session: AsyncSession, update: StatusUpdate, now: datetime) -> Applied:
    """Store one receipt and move the message's status forward if it is later."""
    found = await session.execute(
        select(Message)
        .join(ProviderRef, ProviderRef.message_id == Message.id)
        .where(
            ProviderRef.channel == update.channel,
            ProviderRef.provider_message_id == update.provider_message_id,
        )
    )
    message = found.scalar_one_or_none()
    dialect = postgresql if repo.is_postgres(session) else sqlite
    inserted = await session.execute(
        dialect.insert(DeliveryStatus)
        .values(
            channel=update.channel,
            provider_message_id=update.provider_message_id,
            message_id=message.id if message else None,
            status=update.status[:16],
            error_code=(update.error_code or None) and update.error_code[:16],
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel", "provider_message_id", "status"])
        .returning(DeliveryStatus.id)
    )
    if inserted.scalar_one_or_none() is None:
        return Applied(True, message.id if message else None, None, False)
    if message is None:
        return Applied(False, None, None, False)
    ours = _OURS.get(update.status)
    changed = ours is not None and rank(ours) > rank(message.status)
    if ours is not None and changed:
        message.status = ours
        message.updated_at = now
        if update.error_code:
            message.error = f"provider error {update.error_code}"
        await repo.log(
            session,
            now,
            "delivery_status",
            message.patient_id,
            {"message_id": message.id, "status": update.status, "code": update.error_code},
        )
    return Applied(False, message.id, message.patient_id, changed)


async def record_parts(
    session: AsyncSession, sent: list[tuple[str, int, tuple[str, ...]]], now: datetime
) -> None:
    """Remember every provider id each sent message went out as, so receipts find it.
    `sent` holds (channel, message id, provider ids in order)."""
    values = [
        {
            "channel": channel,
            "provider_message_id": provider_id,
            "message_id": message_id,
            "part": part,
            "created_at": now,
        }
        for channel, message_id, ids in sent
        for part, provider_id in enumerate(ids)
    ]
    if not values:
        return
    dialect = postgresql if repo.is_postgres(session) else sqlite
    await session.execute(
        dialect.insert(ProviderRef).on_conflict_do_nothing(
            index_elements=["channel", "provider_message_id"]
        ),
        values,
    )
