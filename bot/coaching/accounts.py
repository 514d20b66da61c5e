"""Coach accounts and authentication primitives: argon2id passwords, API tokens (only their hash
is stored), server-side console sessions with an idle expiry, login throttling, record access."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from uuid import uuid4

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import (
    ApiToken,
    Coach,
    CoachSession,
    Escalation,
    LoginAttempt,
    Patient,
    Takeover,
)
from storage.statuses import EscalationStatus

ROLES = ("coach", "supervisor", "admin")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class AccountError(Exception):
    """Bad account input (duplicate email, unknown role)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_coach(
    session: AsyncSession,
    email: str,
    name: str,
    role: str,
    now: datetime,
    *,
    password: str | None = None,
) -> Coach:
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise AccountError(f"not an email address: {email!r}")
    if not name.strip():
        raise AccountError("name must not be empty")
    if await coach_by_email(session, email) is not None:
        raise AccountError(f"a coach with email {email} already exists")
    coach = Coach(
        id=str(uuid4()),
        email=email,
        name=name.strip()[:120],
        role=role,
        password_hash=hash_password(password) if password else None,
        active=True,
        available=True,
        created_at=now,
    )
    session.add(coach)
    await session.flush()
    await repo.log(session, now, "coach_created", None, {"coach_id": coach.id, "role": role})
    return coach


async def coach_by_email(session: AsyncSession, email: str) -> Coach | None:
    rows = await session.execute(select(Coach).where(Coach.email == email.strip().lower()))
    return rows.scalar_one_or_none()


async def issue_token(session: AsyncSession, coach: Coach, now: datetime, label: str = "") -> str:
    """A new bearer token for `coach`; the caller shows it once, only its hash is kept."""
    token = "tdm_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(coach_id=coach.id, token_hash=_digest(token), label=label[:80], created_at=now)
    )
    await session.flush()
    await repo.log(session, now, "api_token_issued", None, {"coach_id": coach.id})
    return token


async def coach_for_token(session: AsyncSession, token: str, now: datetime) -> Coach | None:
    rows = await session.execute(
        select(ApiToken, Coach)
        .join(Coach, Coach.id == ApiToken.coach_id)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
    )
    found = rows.first()
    if found is None or not found[1].active:
        return None
    found[0].last_used_at = now
    return found[1]


# --- console sessions and login throttling -----------------------------------------------------


async def start_session(
    session: AsyncSession, coach: Coach, now: datetime, idle: timedelta
) -> tuple[str, CoachSession]:
    """A new console session: returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    row = CoachSession(
        id=_digest(token),
        coach_id=coach.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + idle,
    )
    session.add(row)
    await session.flush()
    await repo.log(session, now, "coach_login", None, {"coach_id": coach.id})
    return token, row


async def resume_session(
    session: AsyncSession, token: str, now: datetime, idle: timedelta
) -> tuple[Coach, CoachSession] | None:
    """The coach behind a cookie, sliding the idle expiry; None when unknown or expired."""
    row = await session.get(CoachSession, _digest(token))
    if row is None:
        return None
    if row.expires_at <= now:
        await session.delete(row)
        return None
    coach = await session.get(Coach, row.coach_id)
    if coach is None or not coach.active:
        return None
    row.last_seen_at, row.expires_at = now, now + idle
    return coach, row


async def end_session(session: AsyncSession, token: str) -> None:
    row = await session.get(CoachSession, _digest(token))
    if row is not None:
        await session.delete(row)


# Failed logins allowed in LOGIN_WINDOW: per account from one client, per account from anywhere
# (guessing spread over many addresses), per client over every account (password spraying).
LOGIN_WINDOW = timedelta(minutes=15)
LIMIT_PAIR, LIMIT_ACCOUNT, LIMIT_CLIENT = 5, 20, 50


async def begin_login(
    session: AsyncSession, email: str, client: str, now: datetime
) -> LoginAttempt:
    """Record an attempt as failed before anything is checked; the caller commits it at once.

    Counting happens after this commit, so attempts racing in parallel (on any number of
    processes) each see every earlier one: at most LIMIT_PAIR of them get a password checked.
    """
    attempt = LoginAttempt(
        email=email.strip().lower()[:254], client=client[:64], success=False, at=now
    )
    session.add(attempt)
    await session.flush()
    return attempt


async def login_throttled(
    session: AsyncSession, attempt: LoginAttempt, *, window: timedelta = LOGIN_WINDOW
) -> bool:
    """True when `attempt` (already committed) is over a limit, counting every failed or
    still-undecided attempt committed in the window, this one included."""
    base = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.success.is_(False), LoginAttempt.at > attempt.at - window)
    )
    by_account = LoginAttempt.email == attempt.email
    by_client = LoginAttempt.client == attempt.client
    pair = await session.scalar(base.where(by_account, by_client))
    account = await session.scalar(base.where(by_account))
    client = await session.scalar(base.where(by_client))
    over_account = (account or 0) > LIMIT_ACCOUNT
    return (pair or 0) > LIMIT_PAIR or over_account or (client or 0) > LIMIT_CLIENT


# --- who may see what --------------------------------------------------------------------------


def sees_all(coach: Coach) -> bool:
    return coach.role in ("supervisor", "admin")


async def may_act_for_patient(session: AsyncSession, coach: Coach, patient: Patient) -> bool:
    """Take over, write, hand back, change the schedule: supervisors and admins for everyone; a
    coach for their caseload, patients with an unresolved escalation in the pool or assigned to
    them, and a conversation they hold."""
    if sees_all(coach) or patient.coach_id == coach.id:
        return True
    pending = await session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(
            Escalation.patient_id == patient.id,
            or_(Escalation.coach_id.is_(None), Escalation.coach_id == coach.id),
            Escalation.status != EscalationStatus.RESOLVED,
        )
    )
    if pending:
        return True
    holding = await session.scalar(
        select(func.count())
        .select_from(Takeover)
        .where(
            Takeover.patient_id == patient.id,
            Takeover.coach_id == coach.id,
            Takeover.ended_at.is_(None),
        )
    )
    return bool(holding)


async def handled(session: AsyncSession, coach: Coach, patient_id: str) -> bool:
    """The coach acknowledged, resolved or took over an escalation or conversation of this
    patient at some point (they keep read access after handing back)."""
    escalation = await session.scalar(
        select(func.count())
        .select_from(Escalation)
        .where(
            Escalation.patient_id == patient_id,
            or_(Escalation.acknowledged_by == coach.id, Escalation.resolved_by == coach.id),
        )
    )
    if escalation:
        return True
    took_over = await session.scalar(
        select(func.count())
        .select_from(Takeover)
        .where(Takeover.patient_id == patient_id, Takeover.coach_id == coach.id)
    )
    return bool(took_over)


async def may_see_patient(session: AsyncSession, coach: Coach, patient: Patient) -> bool:
    """Read the record (transcript, notes) and add notes: whoever may act for the patient, and a
    coach who handled one of their escalations or conversations, also after hand-back."""
    if await may_act_for_patient(session, coach, patient):
        return True
    return await handled(session, coach, patient.id)


async def record_view(
    session: AsyncSession, coach: Coach, patient_id: str, what: str, now: datetime
) -> None:
    """Audit: every view of a patient's record names the coach and what they saw."""
    await repo.log(session, now, "record_viewed", patient_id, {"coach_id": coach.id, "what": what})
