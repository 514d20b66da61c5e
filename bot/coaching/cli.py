"""`tandem coach add|list|disable|enable|reset-password|rotate-token` (README "Coach
administration"). `add` needs a password (--password-stdin) or an API token (--print-token): an
account with neither could never be used. With --print-token (and for rotate-token) the last
line printed is the new API token. Every change is written to the event log."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import SystemClock
from bot.coaching import accounts
from bot.settings import Settings
from storage import repo
from storage.db import Database
from storage.models import ApiToken, Coach, CoachSession

MIN_PASSWORD = 12


def add_commands(sub: Any) -> None:
    coach = sub.add_parser("coach", help="coach accounts")
    coach_sub = coach.add_subparsers(dest="coach_command", required=True)
    add = coach_sub.add_parser("add", help="add a coach, supervisor or admin")
    add.add_argument("email")
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=accounts.ROLES, default="coach")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the console password from stdin"
    )
    add.add_argument("--print-token", action="store_true", help="print a new API token last")
    coach_sub.add_parser("list", help="every account: email, role, state, credentials")
    for name, text in (
        ("disable", "block logins and API tokens, end console sessions"),
        ("enable", "allow a disabled account again"),
        ("rotate-token", "revoke the account's API tokens and print a new one"),
    ):
        coach_sub.add_parser(name, help=text).add_argument("email")
    reset = coach_sub.add_parser("reset-password", help="set a new console password (stdin)")
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true", required=True)


def _fail(message: str, code: int = 1) -> int:
    print(f"tandem: {message}", file=sys.stderr)
    return code


def _read_password() -> str | None:
    password = sys.stdin.readline().rstrip("\r\n")
    return password if len(password) >= MIN_PASSWORD else None


async def run(args: argparse.Namespace, settings: Settings) -> int:
    command = args.coach_command
    password = None
    if getattr(args, "password_stdin", False):
        password = _read_password()
        if password is None:
            return _fail(f"the password must have at least {MIN_PASSWORD} characters", 2)
    if command == "add" and password is None and not args.print_token:
        return _fail(
            "a coach needs a console password (--password-stdin) or an API token "
            "(--print-token); an account with neither could never be used",
            2,
        )
    db = Database(settings.database_url)
    now = SystemClock().now()
    try:
        async with db.session() as session, session.begin():
            if command == "add":
                return await _add(session, args, password, now)
            if command == "list":
                return await _list(session)
            coach = await accounts.coach_by_email(session, args.email)
            if coach is None:
                return _fail(f"no coach with email {args.email.strip().lower()}")
            return await _change(session, coach, command, password, now)
    finally:
        await db.close()


async def _add(
    session: AsyncSession, args: argparse.Namespace, password: str | None, now: datetime
) -> int:
    try:
        coach = await accounts.create_coach(
            session, args.email, args.name, args.role, now, password=password
        )
    except accounts.AccountError as exc:
        return _fail(str(exc))
    token = await accounts.issue_token(session, coach, now, "cli") if args.print_token else None
    print(f"added {coach.role} {coach.email} (id {coach.id})")
    if token is not None:
        print(token)
    return 0


async def _list(session: AsyncSession) -> int:
    tokens = dict(
        (
            await session.execute(
                select(ApiToken.coach_id, func.count())
                .where(ApiToken.revoked_at.is_(None))
                .group_by(ApiToken.coach_id)
            )
        ).all()
    )
    rows = await session.execute(select(Coach).order_by(Coach.email))
    print("email\trole\tstate\tpassword\ttokens\tid")
    for coach in rows.scalars():
        state = "active" if coach.active else "disabled"
        has_password = "yes" if coach.password_hash else "no"
        print(
            f"{coach.email}\t{coach.role}\t{state}\t{has_password}\t"
            f"{tokens.get(coach.id, 0)}\t{coach.id}"
        )
    return 0


async def _change(
    session: AsyncSession, coach: Coach, command: str, password: str | None, now: datetime
) -> int:
    if command in ("disable", "enable"):
        coach.active = command == "enable"
        if not coach.active:  # logged out everywhere at once
            await session.execute(delete(CoachSession).where(CoachSession.coach_id == coach.id))
        await repo.log(session, now, f"coach_{command}d", None, {"coach_id": coach.id})
        print(f"{coach.email} is {'active' if coach.active else 'disabled'}")
    elif command == "reset-password":
        assert password is not None
        coach.password_hash = accounts.hash_password(password)
        await session.execute(delete(CoachSession).where(CoachSession.coach_id == coach.id))
        await repo.log(session, now, "coach_password_reset", None, {"coach_id": coach.id})
        print(f"new password set for {coach.email}; their console sessions were ended")
    else:  # rotate-token
        revoked = await session.execute(
            update(ApiToken)
            .where(ApiToken.coach_id == coach.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        count = getattr(revoked, "rowcount", 0)
        await repo.log(
            session, now, "api_tokens_revoked", None, {"coach_id": coach.id, "count": count}
        )
        token = await accounts.issue_token(session, coach, now, "cli")
        print(f"revoked {count} token(s) of {coach.email}; the new one:")
        print(token)
    return 0
