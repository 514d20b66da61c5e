"""All tables. Each area keeps its models in its own module; importing this package registers them
all on `Base.metadata` (Alembic and the tests rely on that)."""

from storage.models.base import Base
from storage.models.channels import DeliveryStatus, Invite, OptOut, ProviderRef
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
from storage.models.console import MessageTemplate
from storage.models.content import PatientFact
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
from storage.models.study import StudyDecision, StudyEnrolment, StudyStratum

__all__ = [
    "ApiToken",
    "Base",
    "ChannelIdentity",
    "Coach",
    "CoachNote",
    "CoachSession",
    "DeliveryStatus",
    "Escalation",
    "Event",
    "FlowRun",
    "FlowVersion",
    "Invite",
    "LoginAttempt",
    "Message",
    "MessageTemplate",
    "OptOut",
    "OutboxItem",
    "Patient",
    "PatientFact",
    "ProviderRef",
    "SafetyPlan",
    "ScheduleItem",
    "StudyDecision",
    "StudyEnrolment",
    "StudyStratum",
    "Takeover",
]
