"""Every status Tandem stores, one StrEnum per column and one spelling per state. The values are
the strings in the database (no migration): a member compares equal to its string.

A message's status depends on its direction: `InboundStatus` for what a patient sent,
`OutboundStatus` for what Tandem sent. Providers' own receipt statuses (Twilio's "accepted",
"canceled", ...) are kept raw in `delivery_statuses`; bot/delivery.py maps them onto
`OutboundStatus` before they touch a message.
"""

from __future__ import annotations

from enum import StrEnum


class PatientStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    OPTED_OUT = "opted_out"
    DISCHARGED = "discharged"
    ERASED = "erased"


class RunStatus(StrEnum):
    ACTIVE = "active"
    WAITING = "waiting"  # for a reply or a timeout
    ENDED = "ended"


class InboundStatus(StrEnum):
    RECEIVED = "received"  # stored, not processed yet
    PROCESSED = "processed"
    FAILED = "failed"  # a step failed; the error is kept beside it


class OutboundStatus(StrEnum):
    QUEUED = "queued"  # in the outbox
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher, under a lease
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ScheduleStatus(StrEnum):
    ACTIVE = "active"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


class EscalationStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class DecisionStatus(StrEnum):
    PENDING = "pending"  # a study decision point not yet reached
    DECIDED = "decided"
