"""The `tandem` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from bot.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"tandem: invalid configuration: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _start(work: Coroutine[Any, Any, None], settings: Settings, where: str | None = None) -> None:
    """Run `work`; a known start-up failure (database unreachable or missing, port in use, an
    unwritable path) ends the process with one line and exit status 1."""
    from bot.startup import describe

    try:
        asyncio.run(work)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:
        line = describe(exc, settings, where)
        if line is None:
            raise
        print(f"tandem: {line}", file=sys.stderr)
        raise SystemExit(1) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem", description="Tandem: coached chatbot backend")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server, dispatcher and scheduler")
    serve.add_argument("--host", help="bind address (default: TANDEM_HOST)")
    serve.add_argument("--port", type=int, help="port (default: TANDEM_PORT)")
    serve.add_argument("--no-migrate", action="store_true", help="do not migrate on start")

    db = sub.add_parser("db", help="database commands")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending migrations")

    flows = sub.add_parser("flows", help="flow content commands")
    flows_sub = flows.add_subparsers(dest="flows_command", required=True)
    flows_sub.add_parser("check", help="validate every flow and its texts")
    flows_sub.add_parser("list", help="print each flow id and version")
    diagram = flows_sub.add_parser("diagram", help="print a flow's Mermaid diagram")
    diagram.add_argument("flow")
    flows_sub.add_parser("docs", help="rewrite docs/flow.schema.json and docs/flows/*.md")

    chat = sub.add_parser("chat", help="talk to Tandem in the terminal (reads stdin)")
    chat.add_argument("--address", default="terminal", help="conversation id (default: terminal)")
    from bot.channelcmd import add_commands

    add_commands(sub)
    from bot.coaching.cli import add_commands as add_coach_commands

    add_coach_commands(sub)
    from bot.patientcmd import add_commands as add_patient_commands

    add_patient_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "flows":
        from bot.flowcmd import run_flows_command

        raise SystemExit(run_flows_command(args.flows_command, getattr(args, "flow", None)))
    settings = _settings()
    from bot.logs import configure

    configure(settings.log_level if args.command == "serve" else "warning")
    if args.command == "serve":
        from bot.server import serve

        host = args.host or settings.host
        port = args.port if args.port is not None else settings.port
        if not 0 < port < 65536:
            print(f"tandem: --port must be between 1 and 65535 (got {port})", file=sys.stderr)
            raise SystemExit(2)
        _start(serve(settings, host, port, migrate=not args.no_migrate), settings, f"{host}:{port}")
    elif args.command == "db":
        from bot.server import upgrade_database

        _start(upgrade_database(settings), settings)
        print("database is up to date")
    elif args.command == "chat":
        from bot.terminal import chat

        raise SystemExit(asyncio.run(chat(settings, args.address, sys.stdin, sys.stdout)))
    elif args.command in ("channels", "invite"):
        from bot.channelcmd import run

        raise SystemExit(asyncio.run(run(args, settings)))
    elif args.command == "patient":
        from bot.patientcmd import run as run_patient

        raise SystemExit(asyncio.run(run_patient(args, settings)))
    elif args.command == "coach":
        from bot.coaching.cli import run as run_coach

        raise SystemExit(asyncio.run(run_coach(args, settings)))
