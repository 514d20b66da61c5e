"""`tandem channels check` and `tandem invite create`."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from bot.settings import Settings


def add_commands(sub: Any) -> None:
    channels = sub.add_parser("channels", help="provider channel commands")
    channels_sub = channels.add_subparsers(dest="channels_command", required=True)
    channels_sub.add_parser(
        "check", help="verify credentials with each provider and print the webhook URLs"
    )
    invite = sub.add_parser("invite", help="invite codes (TANDEM_ENROLMENT=invite)")
    invite_sub = invite.add_subparsers(dest="invite_command", required=True)
    create = invite_sub.add_parser("create", help="create invite codes, one printed a line")
    create.add_argument("--count", type=int, default=1, help="how many (default 1)")
    create.add_argument("--note", help="a note kept with the codes (e.g. a clinic or a cohort)")


async def run(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    if args.command == "channels":
        return await check(settings, out)
    return await create_invites(args, settings, out)


async def check(settings: Settings, out: TextIO) -> int:
    from bot.channels.telegram import WEBHOOK_PATH, TelegramChannel
    from bot.channels.twilio import INBOUND_PATH, STATUS_PATH, TwilioChannel

    if not settings.has_provider_credentials:
        print(
            "tandem: no channel configured: set TANDEM_TWILIO_ACCOUNT_SID, "
            "TANDEM_TWILIO_AUTH_TOKEN and TANDEM_TWILIO_FROM_NUMBER (or "
            "TANDEM_TWILIO_MESSAGING_SERVICE_SID), and/or TANDEM_TELEGRAM_BOT_TOKEN",
            file=sys.stderr,
        )
        return 1
    failed = False
    base = settings.public_url
    if not base.startswith("https://"):
        print(f"warning: TANDEM_PUBLIC_URL {base} is not https; providers need https", file=out)
    if settings.twilio_enabled:
        twilio = TwilioChannel(settings)
        try:
            name = await twilio.check()
            print(f"sms: ok, Twilio account {name!r}", file=out)
        except Exception as exc:
            failed = True
            print(f"sms: FAILED: {_reason(exc)}", file=out)
        finally:
            await twilio.close()
        sender = settings.twilio_from_number or settings.twilio_messaging_service_sid
        print(
            f"  on {sender}, set 'A message comes in' (HTTP POST) to {base}{INBOUND_PATH}", file=out
        )
        print(f"  status callbacks go to {base}{STATUS_PATH} (sent with each message)", file=out)
        who = "Tandem" if settings.twilio_opt_out_replies == "tandem" else "Twilio Advanced Opt-Out"
        print(f"  STOP/HELP confirmations are sent by {who}", file=out)
    if settings.telegram_enabled:
        telegram = TelegramChannel(settings)
        try:
            info = await telegram.check()
            print(f"telegram: ok, bot @{info['username']}", file=out)
            print(f"  webhook now registered: {info['webhook_url'] or '(none)'}", file=out)
        except Exception as exc:
            failed = True
            reason = _reason(exc).replace(settings.telegram_bot_token, "<token>")
            print(f"telegram: FAILED: {reason}", file=out)
        finally:
            await telegram.close()
        mode = settings.telegram_mode
        print(
            f"  mode {mode}; webhook URL {base}{WEBHOOK_PATH} (registered by tandem serve)",
            file=out,
        )
    return 1 if failed else 0


def _reason(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


async def create_invites(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from bot.clock import SystemClock
    from bot.optout import create_invites as create
    from storage.db import Database

    if not 1 <= args.count <= 10_000:
        print("tandem: --count must be between 1 and 10000", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    try:
        codes = await create(db, SystemClock().now(), args.count, args.note)
    finally:
        await db.close()
    for code in codes:
        print(code, file=out)
    return 0
