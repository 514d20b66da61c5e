"""Starting a demo conversation over (the try-it page's "start over", `tandem chat --new`)."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from sqlalchemy import select, update

from storage import repo
from storage.db import Database
from storage.models import ChannelIdentity, FlowRun, Message, OutboxItem, ScheduleItem
from storage.statuses import OutboundStatus, OutboxStatus, PatientStatus, RunStatus, ScheduleStatus

STARTED_OVER = "conversation started over"


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
            .where(FlowRun.patient_id == patient.id, FlowRun.status != RunStatus.ENDED)
            .values(status=RunStatus.ENDED)
        )
        await session.execute(
            update(ScheduleItem)
            .where(
                ScheduleItem.patient_id == patient.id, ScheduleItem.status == ScheduleStatus.ACTIVE
            )
            .values(status=ScheduleStatus.CANCELLED, next_fire_at=None, updated_at=now)
        )
        cancelled = await session.execute(
            update(OutboxItem)
            .where(OutboxItem.patient_id == patient.id, OutboxItem.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.CANCELLED, last_error=STARTED_OVER)
            .returning(OutboxItem.message_id)
            .execution_options(synchronize_session=False)
        )
        unsent = [mid for mid in cancelled.scalars() if mid is not None]
        if unsent:
            await session.execute(
                update(Message)
                .where(Message.id.in_(unsent))
                .values(
                    status=OutboundStatus.FAILED, error=f"not sent: {STARTED_OVER}", updated_at=now
                )
                .execution_options(synchronize_session=False)
            )
        patient.status = PatientStatus.DISCHARGED
        await repo.log(session, now, "chat_started_over", patient.id, {"channel": channel})
    return True
