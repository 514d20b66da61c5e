"""Is anyone there to hear an escalation? Coach accounts and the on-call phone, for the start-up
warnings and GET /readyz (a warning there, not a failure: the service still works)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching import notify
from storage.models import Coach

log = structlog.get_logger("tandem.coaching")

CoachState = Literal["none", "unavailable", "available"]


@dataclass(frozen=True)
class Staffing:
    coaches: CoachState  # no active account / none available / at least one available
    oncall_phone: bool  # TANDEM_ONCALL_PHONE is set
    oncall_reachable: bool  # ...and an SMS channel is configured to text it
    warnings: list[str] = field(default_factory=list)


async def staffing(session: AsyncSession, alerts: notify.Alerts) -> Staffing:
    """Count active and available coach accounts and say what that means for escalations."""
    rows = await session.execute(
        select(Coach.available, func.count())
        .where(Coach.active.is_(True))
        .group_by(Coach.available)
    )
    counts = {bool(available): int(n) for available, n in rows.all()}
    state: CoachState = (
        "available" if counts.get(True) else "unavailable" if counts.get(False) else "none"
    )
    reachable = alerts.can_text_oncall()
    warnings = []
    if state == "none":
        warnings.append("no coach accounts: escalations reach nobody on the console")
    elif state == "unavailable":
        warnings.append("no coach is available: escalations wait in the pool")
    if alerts.oncall_phone and not reachable:
        warnings.append("TANDEM_ONCALL_PHONE is set but no SMS channel is configured to text it")
    elif not alerts.oncall_phone and state != "available":
        warnings.append("TANDEM_ONCALL_PHONE is not set: urgent escalations have no fallback")
    return Staffing(state, bool(alerts.oncall_phone), reachable, warnings)


def log_startup(found: Staffing) -> None:
    """One structured line per problem, at start-up."""
    if found.coaches == "none":
        log.warning(
            "no_coach_accounts",
            oncall_phone=found.oncall_phone,
            hint="add one with: tandem coach add EMAIL --name NAME --role coach",
        )
    if found.oncall_phone and not found.oncall_reachable:
        log.error("oncall_phone_unreachable", reason="no SMS channel is configured")
