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
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="web processes sharing the port (default 1); with more than 1 they run no "
        "background loops: run `tandem worker` beside them",
    )
    serve.add_argument(
        "--no-background",
        action="store_true",
        help="web process only, no dispatcher/scheduler (as TANDEM_BACKGROUND=off)",
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)

    worker = sub.add_parser(
        "worker", help="run the dispatcher, scheduler, sweeper and coaching tick (no HTTP)"
    )
    worker.add_argument("--no-migrate", action="store_true", help="do not migrate on start")

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
    chat.add_argument(
        "--new",
        action="store_true",
        help="start over: end the conversation at this address and begin a new one",
    )
    from bot.channelcmd import add_commands

    add_commands(sub)
    from bot.coaching.cli import add_commands as add_coach_commands

    add_coach_commands(sub)
    from bot.safetycmd import add_commands as add_safety_commands

    add_safety_commands(sub)
    from bot.patientcmd import add_commands as add_patient_commands

    add_patient_commands(sub)
    from bot.research.cli import add_commands as add_research_commands

    add_research_commands(sub)
    from bot.study.cli import add_commands as add_study_commands

    add_study_commands(sub)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    from bot.server import serve, upgrade_database

    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    if not 0 < port < 65536:
        print(f"tandem: --port must be between 1 and 65535 (got {port})", file=sys.stderr)
        raise SystemExit(2)
    if not 1 <= args.workers <= 64:
        print(f"tandem: --workers must be between 1 and 64 (got {args.workers})", file=sys.stderr)
        raise SystemExit(2)
    if args.workers > 1:
        from bot.supervisor import supervise

        if not args.no_migrate:
            _start(upgrade_database(settings), settings)  # once, before the processes start
        raise SystemExit(asyncio.run(supervise(host, port, args.workers, settings.log_level)))
    background = settings.background == "on" and not args.no_background
    _start(
        serve(
            settings,
            host,
            port,
            migrate=not args.no_migrate,
            background=background,
            reuse_port=args.reuse_port,
        ),
        settings,
        f"{host}:{port}",
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "flows":
        from bot.flowcmd import run_flows_command

        raise SystemExit(run_flows_command(args.flows_command, getattr(args, "flow", None)))
    if args.command == "study":
        from bot.study.cli import run as run_study

        raise SystemExit(run_study(args))
    if args.command == "safety":
        from bot.safetycmd import run as run_safety

        raise SystemExit(run_safety(args))
    settings = _settings()
    from bot.logs import configure

    configure(settings.log_level if args.command in ("serve", "worker") else "warning")
    if args.command == "serve":
        _serve(args, settings)
    elif args.command == "worker":
        from bot.server import work

        _start(work(settings, migrate=not args.no_migrate), settings)
    elif args.command == "db":
        from bot.server import upgrade_database

        _start(upgrade_database(settings), settings)
        print("database is up to date")
    elif args.command == "chat":
        from bot.terminal import chat

        raise SystemExit(
            asyncio.run(chat(settings, args.address, sys.stdin, sys.stdout, new=args.new))
        )
    elif args.command in ("channels", "invite"):
        from bot.channelcmd import run

        raise SystemExit(asyncio.run(run(args, settings)))
    elif args.command == "patient":
        from bot.patientcmd import run as run_patient

        raise SystemExit(asyncio.run(run_patient(args, settings)))
    elif args.command == "export":
        from bot.research.cli import run as run_export

        raise SystemExit(asyncio.run(run_export(args, settings)))
    elif args.command == "coach":
        from bot.coaching.cli import run as run_coach

        raise SystemExit(asyncio.run(run_coach(args, settings)))
