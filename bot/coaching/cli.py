"""`tandem coach add EMAIL --name NAME --role coach|supervisor|admin [--password-stdin]
[--print-token]`: with --print-token the last line printed is the new user's API token."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.clock import SystemClock
from bot.coaching import accounts
from bot.settings import Settings
from storage.db import Database

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


async def run(args: argparse.Namespace, settings: Settings) -> int:
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < MIN_PASSWORD:
            print(
                f"tandem: the password must have at least {MIN_PASSWORD} characters",
                file=sys.stderr,
            )
            return 2
    db = Database(settings.database_url)
    now = SystemClock().now()
    try:
        async with db.session() as session, session.begin():
            try:
                coach = await accounts.create_coach(
                    session, args.email, args.name, args.role, now, password=password
                )
            except accounts.AccountError as exc:
                print(f"tandem: {exc}", file=sys.stderr)
                return 1
            token = (
                await accounts.issue_token(session, coach, now, "cli") if args.print_token else None
            )
    finally:
        await db.close()
    print(f"added {coach.role} {coach.email} (id {coach.id})")
    if token is not None:
        print(token)
    return 0
