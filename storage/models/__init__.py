"""All tables. Each area keeps its models in its own module; importing this package registers them
all on `Base.metadata` (Alembic and the tests rely on that)."""

from storage.models.base import Base
from storage.models.channels import DeliveryStatus, Invite, OptOut, ProviderRef
from storage.models.content import PatientFact
from storage.models.coaching import (
    ApiToken,
    Coach,
    CoachNote,
    CoachSession,
    Escalation,
    LoginAttempt,
    SafetyPlan,
    Takeover,
)
from storage.models.core import (
    ChannelIdentity,
    Event,
    FlowRun,
    FlowVersion,
    Message,
    OutboxItem,
    Patient,
)
from storage.models.scheduling import ScheduleItem

__all__ = [
    "ApiToken",
    "Base",
    "Coach",
    "CoachNote",
    "CoachSession",
    "Escalation",
    "LoginAttempt",
    "SafetyPlan",
    "Takeover",
    "ChannelIdentity",
    "DeliveryStatus",
    "Event",
    "FlowRun",
    "FlowVersion",
    "Invite",
    "Message",
    "OptOut",
    "OutboxItem",
    "Patient",
    "ScheduleItem",
    "PatientFact",
    "ProviderRef",
]
