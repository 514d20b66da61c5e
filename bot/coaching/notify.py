"""Alerts to staff. The console hears every escalation over the live bus; a coach who set up a
phone, and the on-call phone (`TANDEM_ONCALL_PHONE`), also get a text.

Texts are staff rows in the durable outbox (`outbox.audience = "staff"`): queued in the caller's
transaction, then sent by the dispatcher with its retries, backoff and throttles. They carry no
patient and no message row, so they never show in a transcript, the console or the API, never
wait behind (or hold up) a patient's messages, are never cancelled by a patient's opt-out, and a
final failure is logged and recorded (`staff_alert_failed`) instead of opening an escalation.

Every alert is written to the event log (`coach_notified`, `oncall_notified`), so the audit trail
says who was told what and when.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching.events import after_commit
from storage import repo
from storage.db import Carried, Database
from storage.models import Coach, OutboxItem
from storage.statuses import OutboxStatus

log = structlog.get_logger("tandem.coaching.notify")

STAFF = "staff"
# Staff alerts are as pressing as a crisis reply (bot.actions.URGENT_PRIORITY).
STAFF_PRIORITY = 10
ONCALL_CHANNEL = "sms"


@dataclass
class Alerts:
    """Where this process can send staff alerts. `channels` is the dispatcher's own mapping (the
    channels that are configured); `wake` nudges the dispatcher after a commit."""

    channels: Mapping[str, object]
    oncall_phone: str = ""
    public_url: str = ""
    wake: Callable[[], None] | None = None

    def can_text_oncall(self) -> bool:
        return bool(self.oncall_phone) and ONCALL_CHANNEL in self.channels


_NOWHERE = Alerts(channels={})
_ALERTS = Carried[Alerts]("tandem_alerts")


def configure(db: Database, alerts: Alerts) -> None:
    """Every session of `db` sends staff alerts as `alerts` says (without: none can go out)."""
    _ALERTS.set(db, alerts)


def alerts_of(session: AsyncSession) -> Alerts:
    return _ALERTS.get(session) or _NOWHERE


def console_link(session: AsyncSession, patient_id: str) -> str:
    """The patient's page in the coach console (what alerts point to: never the patient's words)."""
    return f"{alerts_of(session).public_url}/console/patients/{patient_id}"


async def queue_staff_text(
    session: AsyncSession, channel: str, address: str, body: str, now: datetime
) -> OutboxItem | None:
    """Queue a text to a staff phone in the caller's transaction; None if `channel` is off."""
    if channel not in alerts_of(session).channels:
        return None
    item = OutboxItem(
        audience=STAFF,
        patient_id=None,
        message_id=None,
        channel=channel,
        address=address,
        body=body,
        choices=[],
        priority=STAFF_PRIORITY,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    await session.flush()
    wake = alerts_of(session).wake
    if wake is not None:
        after_commit(session, wake)
    return item


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
    """Log an alert to `coach` and queue a text to their phone if they set one up."""
    item = None
    if coach.notify_channel and coach.notify_address:
        item = await queue_staff_text(session, coach.notify_channel, coach.notify_address, body, at)
        if item is None:
            log.warning("coach_alert_no_channel", channel=coach.notify_channel, coach=coach.id)
    data: dict[str, object] = {
        "coach_id": coach.id,
        "escalation_id": escalation_id,
        "why": why,
        "via": coach.notify_channel if item is not None else "console",
    }
    if item is not None:
        data["outbox_id"] = item.id
    await repo.log(session, at, "coach_notified", patient_id, data)


async def alert_oncall(
    session: AsyncSession,
    body: str,
    *,
    patient_id: str,
    escalation_id: int,
    why: str,
    at: datetime,
) -> bool:
    """Queue a text to the on-call phone; False (and recorded) when none can be sent."""
    if not alerts_of(session).oncall_phone:
        return False
    item = await queue_staff_text(
        session, ONCALL_CHANNEL, alerts_of(session).oncall_phone, body, at
    )
    if item is None:
        # Start-up already logged that the SMS channel is off; record each alert that could not go.
        await repo.log(
            session,
            at,
            "oncall_not_notified",
            patient_id,
            {"escalation_id": escalation_id, "why": why, "reason": "no SMS channel"},
        )
        return False
    await repo.log(
        session,
        at,
        "oncall_notified",
        patient_id,
        {"escalation_id": escalation_id, "why": why, "outbox_id": item.id},
    )
    return True
