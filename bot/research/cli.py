"""`tandem export --out DIR [--since ISO] [--until ISO] [--identified]`: the analysis-ready files
(docs/DATA.md), with a progress line on stderr. Audited like the API export, as by "cli"."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.clock import SystemClock
from bot.research.export import FILES, Request, not_a_folder, write_export
from bot.research.people import Window
from bot.settings import Settings
from storage.db import Database


def add_commands(sub: Any) -> None:
    export = sub.add_parser(
        "export", help="write the analysis-ready research files (CSV and FHIR) into a folder"
    )
    export.add_argument("--out", required=True, help="folder to write (created if missing)")
    export.add_argument("--since", help="only rows at or after this ISO date or time (UTC)")
    export.add_argument("--until", help="only rows before this ISO date or time (UTC)")
    export.add_argument(
        "--identified",
        action="store_true",
        help="add patient id, name, channel and address to participants.csv (audited)",
    )


def parse_time(name: str, raw: str | None) -> datetime | None:
    """An ISO date ("2026-12-01", midnight UTC) or date-time (UTC unless an offset is given)."""
    if raw is None or raw == "":
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            f"{name} must be an ISO date or date-time such as 2026-12-01 or "
            f"2026-12-01T09:00:00Z (got {raw!r})"
        ) from None
    return value


def window_of(since: str | None, until: str | None) -> Window:
    """The window for raw `since`/`until` values; ValueError names the bad one."""
    return Window(parse_time("since", since), parse_time("until", until))


class ProgressLine:
    """A progress bar on a terminal; on a pipe or a log, one line per tenth done."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        if self.tty:
            bar = "#" * int(share * 30)
            self.stream.write(f"\rexport [{bar:<30}] {done}/{total} participants")
            if done >= total:
                self.stream.write("\n")
        elif int(share * 10) > self.shown:
            self.shown = int(share * 10)
            self.stream.write(f"export: {done}/{total} participants ({share:.0%})\n")
        self.stream.flush()


async def run(
    args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    try:
        window = window_of(args.since, args.until)
    except ValueError as exc:
        print(f"tandem: {exc}", file=err)
        return 2
    folder = Path(args.out)
    if not_a_folder(folder):
        print(f"tandem: --out {folder} exists and is not a folder", file=err)
        return 2
    if not settings.research_key:
        print(
            "tandem: warning: TANDEM_RESEARCH_KEY is not set; pseudonyms of patients outside a "
            "study are then derivable by anyone who knows their internal ids",
            file=err,
        )
    db = Database(settings.database_url)
    try:
        count = await write_export(
            db,
            folder,
            Request(window, args.identified, "cli"),
            now=SystemClock().now(),
            key=settings.research_key,
            progress=ProgressLine(err),
        )
    except OSError as exc:
        print(f"tandem: cannot write the export to {folder}: {exc.strerror or exc}", file=err)
        return 1
    finally:
        await db.close()
    print(f"wrote {len(FILES)} files for {count} participants to {folder}", file=out)
    return 0
