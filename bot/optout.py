"""Opt-out, opt-in, HELP and invite-only enrolment: the chain link at Stage.OPT_OUT.

STOP-family keywords (alone in a message, any case) opt a patient out; while opted out their
messages are stored but get no flow reply, and the dispatcher cancels their non-urgent queue.
START/UNSTOP (and YES, only while opted out) opt back in where they left off. On SMS, Twilio's
Advanced Opt-Out sends the confirmations unless TANDEM_TWILIO_OPT_OUT_REPLIES=tandem; the opt-out
is recorded either way.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

import structlog
from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import Turn
from bot.chain import Result
from bot.channels.base import OutboundMessage, SendError
from bot.clock import Clock
from bot.country import resources_for
from bot.outbox import FailureHook, cancel_for_patient
from bot.settings import Settings
from flows.texts import text
from storage import repo
from storage.db import Database
from storage.models import FlowRun, Invite, Message, OptOut, Patient
from storage.statuses import PatientStatus

log = structlog.get_logger("tandem.optout")

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# Outranks ordinary messages (so a confirmation goes before anything older) but not crisis
# replies; the dispatcher only cancels priority-0 rows of an opted-out patient.
COMPLIANCE_PRIORITY = 1
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L look-alikes
_COMMAND = re.compile(r"^/([a-z]+)(?:@\w+)?(?:\s+(\S+))?\s*$", re.IGNORECASE)


def help_text(settings: Settings, locale: str, emergency: str) -> str:
    """The HELP / AYUDA reply in the patient's language: who is texting, how to reach support,
    the emergency number, and the keywords (STOP, the language switch, AYUDA for Spanish)."""
    support = settings.support_contact
    # The default contact is said in the patient's language; a deployment's own is kept as is.
    if support == Settings.model_fields["support_contact"].default:
        support = text("compliance.default_support", locale)
    return text(
        "compliance.help",
        locale,
        program=settings.program_name,
        support=support,
        # Unknown, the patient's own emergency number is described in words instead.
        emergency=emergency or text("compliance.no_emergency", locale),
    )


def keyword(text: str) -> tuple[str | None, str | None]:
    """('STOP'|'START'|'HELP'|..., argument) for a keyword or /command alone in `text`."""
    command = _COMMAND.match(text.strip())
    if command:
        return command.group(1).upper(), command.group(2)
    word = re.sub(r"[\s.!]+$", "", text.strip()).upper()
    return (word, None) if word.isalpha() and len(word) <= 12 else (None, None)


async def send_reply(turn: Turn, text: str, key: str, priority: int = COMPLIANCE_PRIORITY) -> None:
    """Queue a keyword reply on the patient's channel, ahead of ordinary messages."""
    identity = await turn.identity()
    if identity is not None:
        await repo.enqueue(
            turn.session,
            turn.patient.id,
            identity.channel,
            identity.address,
            text,
            turn.now,
            priority=priority,
        )
        await turn.log("message_queued", {"key": key, "urgent": False})


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))


async def opt_out(
    session: AsyncSession, patient: Patient, now: datetime, reason: str, channel: str | None
) -> bool:
    """Mark the (locked) patient opted out; False when they already were."""
    if patient.status == PatientStatus.OPTED_OUT:
        return False
    session.add(
        OptOut(
            patient_id=patient.id,
            action="out",
            reason=reason,
            channel=channel,
            previous_status=patient.status,
            at=now,
        )
    )
    patient.status = PatientStatus.OPTED_OUT
    await cancel_for_patient(session, patient.id, now)
    await repo.log(session, now, "opted_out", patient.id, {"reason": reason, "channel": channel})
    return True


async def opt_in(session: AsyncSession, patient: Patient, now: datetime, channel: str) -> None:
    last = await session.scalar(
        select(OptOut)
        .where(OptOut.patient_id == patient.id, OptOut.action == "out")
        .order_by(OptOut.id.desc())
        .limit(1)
    )
    previous = (
        last.previous_status
        if last and last.previous_status != PatientStatus.OPTED_OUT
        else PatientStatus.ACTIVE
    )
    session.add(
        OptOut(
            patient_id=patient.id,
            action="in",
            reason="keyword",
            channel=channel,
            previous_status=patient.status,
            at=now,
        )
    )
    patient.status = previous
    await repo.log(session, now, "opted_in", patient.id, {"channel": channel, "status": previous})


async def last_opt_out_reason(session: AsyncSession, patient_id: str) -> str | None:
    return await session.scalar(
        select(OptOut.reason)
        .where(OptOut.patient_id == patient_id, OptOut.action == "out")
        .order_by(OptOut.id.desc())
        .limit(1)
    )


class OptOutInterceptor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _tandem_replies(self, channel: str) -> bool:
        return channel != "sms" or self.settings.twilio_opt_out_replies == "tandem"

    async def _reply(self, turn: Turn, key: str, priority: int = COMPLIANCE_PRIORITY) -> None:
        locale = turn.patient.locale
        if key == "help":
            emergency = (await resources_for(turn)).emergency
            body = help_text(self.settings, locale, emergency)
        else:
            body = text(
                f"compliance.{key}",
                locale,
                program=self.settings.program_name,
                support=self.settings.support_contact,
            )
        await send_reply(turn, body, f"channel.{key}", priority)

    async def __call__(self, turn: Turn, message: Message) -> Result:
        patient, channel = turn.patient, message.channel
        word, argument = keyword(message.body)
        if word in STOP_WORDS:
            await opt_out(turn.session, patient, turn.now, "keyword", channel)
            if self._tandem_replies(channel):
                await self._reply(turn, "opted_out")
            return Result.HANDLED
        if patient.status == PatientStatus.OPTED_OUT:
            reason = await last_opt_out_reason(turn.session, patient.id)
            # A Telegram user who blocked the bot and writes again has unblocked it.
            unblocked = channel == "telegram" and reason == "blocked"
            if word in START_WORDS or word == "YES" or unblocked:
                await opt_in(turn.session, patient, turn.now, channel)
                if self._tandem_replies(channel):
                    await self._reply(turn, "opted_in", priority=0)
                done = word in START_WORDS or word == "YES" or not unblocked
                return Result.HANDLED if done else Result.CONTINUE
            return Result.HANDLED  # stored; no flow reply while opted out
        if word in HELP_WORDS:
            if self._tandem_replies(channel):
                await self._reply(turn, "help", priority=0)
            return Result.HANDLED
        if self.settings.enrolment == "invite" and not await _enrolled(turn.session, patient):
            code = argument if word == "START" else message.body.strip()
            if code and await _claim_invite(turn.session, code, patient.id, turn.now):
                return Result.CONTINUE  # the engine starts onboarding on this first message
            await self._reply(turn, "invite", priority=0)
            return Result.HANDLED
        if word == "START":
            # /start (or START) from an enrolled patient mid-conversation: nothing to restart.
            running = await repo.active_run(turn.session, patient.id) is not None
            return Result.HANDLED if running else Result.CONTINUE
        return Result.CONTINUE


async def _enrolled(session: AsyncSession, patient: Patient) -> bool:
    started = exists().where(FlowRun.patient_id == patient.id)
    invited = exists().where(Invite.patient_id == patient.id)
    return bool(await session.scalar(select(or_(started, invited))))


async def _claim_invite(session: AsyncSession, code: str, patient_id: str, now: datetime) -> bool:
    invite = await session.get(Invite, code.strip().upper()[:64], with_for_update=True)
    if invite is None or invite.used_at is not None:
        return False
    invite.used_at, invite.patient_id = now, patient_id
    await repo.log(session, now, "invite_used", patient_id, {})
    return True


async def create_invites(db: Database, now: datetime, count: int, note: str | None) -> list[str]:
    codes = [new_invite_code() for _ in range(count)]
    async with db.session() as session, session.begin():
        for code in codes:
            session.add(Invite(code=code, note=note, created_at=now))
    return codes


def failure_hook(db: Database, clock: Clock) -> FailureHook:
    """A dispatcher failure hook: a provider saying the patient opted out (21610, blocked)."""

    async def hook(item: OutboundMessage, error: SendError) -> None:
        if not error.opted_out:
            return
        reason = "blocked" if item.channel == "telegram" else f"provider_{error.code or 'stop'}"
        await mark_opted_out(db, clock, item.patient_id, reason, item.channel)

    return hook


async def mark_opted_out(
    db: Database, clock: Clock, patient_id: str, reason: str, channel: str
) -> None:
    async with db.session() as session, session.begin():
        patient = await repo.lock_patient(session, patient_id)
        if patient is not None and await opt_out(session, patient, clock.now(), reason, channel):
            log.info("opted_out_by_provider", patient=patient_id, reason=reason)
