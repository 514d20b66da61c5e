"""Alerts to coaches: the console hears every escalation over the live bus; a coach who set up a
phone also gets a text there (SMS or Telegram), sent after the commit through Tandem's channels.

Each alert is written to the event log first (`coach_notified`), so the audit trail says who was
told what and when even if the text itself then fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import Channel, OutboundMessage, SendError
from bot.coaching.events import after_commit
from storage.models import Coach, Event

log = structlog.get_logger("tandem.coaching.notify")


class Notifier:
    """Sends coach alerts on the configured channels; tasks are kept so tests can await them."""

    def __init__(self, channels: Mapping[str, Channel], program: str, locale: str) -> None:
        self.channels = channels
        self.program = program
        self.locale = locale
        self._tasks: set[asyncio.Task[None]] = set()

    async def _send(self, message: OutboundMessage) -> None:
        channel = self.channels.get(message.channel)
        if channel is None:
            log.warning("coach_alert_no_channel", channel=message.channel)
            return
        try:
            await channel.send(message)
        except SendError as exc:
            log.warning("coach_alert_failed", reason=exc.reason[:200])

    def spawn(self, message: OutboundMessage) -> None:
        task = asyncio.get_running_loop().create_task(self._send(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Wait for alerts in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


_notifier: Notifier | None = None


def configure(notifier: Notifier | None) -> None:
    global _notifier
    _notifier = notifier


def current() -> Notifier | None:
    return _notifier


async def alert(
    session: AsyncSession,
    coach: Coach,
    body: str,
    *,
    patient_id: str,
    escalation_id: int | None,
    why: str,
    at: datetime,
) -> None:
    """Log an alert to `coach` and, after commit, text it to their phone if they set one up."""
    via = coach.notify_channel if coach.notify_channel and coach.notify_address else "console"
    row = Event(
        at=at,
        kind="coach_notified",
        patient_id=patient_id,
        data={"coach_id": coach.id, "escalation_id": escalation_id, "why": why, "via": via},
    )
    session.add(row)
    await session.flush()
    notifier = _notifier
    if via == "console" or notifier is None:
        return
    # Negative ids keep coach alerts apart from outbox rows in channels' idempotency keys.
    message = OutboundMessage(
        outbox_id=-row.id,
        patient_id=patient_id,
        channel=str(coach.notify_channel),
        address=str(coach.notify_address),
        text=body,
        urgent=True,
    )
    after_commit(session, lambda: notifier.spawn(message))
