"""The analysis-ready export: `tandem export --out DIR` and GET /api/v1/exports write the same
files (docs/DATA.md documents every column). Patients are read in chunks and every file is
written row by row, so a deployment of 100k patients never sits in memory at once."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from bot.research import fhir, people
from bot.research.measures import MEASURES, administrations, measure_rows
from bot.research.people import Window, iso
from bot.research.tables import (
    DECISIONS,
    ENGAGEMENT,
    IDENTIFIED,
    PARTICIPANTS,
    Context,
    decisions,
    engagement,
    participants,
)
from storage import repo
from storage.db import Database

CSV_FILES = ("participants.csv", "decisions.csv", "measures.csv", "engagement.csv")
FHIR_FILES = ("fhir/QuestionnaireResponse.ndjson", "fhir/Observation.ndjson")
FILES = CSV_FILES + FHIR_FILES
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Request:
    window: Window
    identified: bool
    by: str  # who asked: "cli" or "coach:<id>", for the audit event


class _Files:
    """The open output files; `row` writes one CSV row, `resource` one NDJSON line."""

    def __init__(self, out: Path, stack: ExitStack, identified: bool) -> None:
        self._csv: dict[str, Any] = {}
        self._ndjson: dict[str, IO[str]] = {}
        headers = {
            "participants.csv": PARTICIPANTS + (IDENTIFIED if identified else ()),
            "decisions.csv": DECISIONS,
            "measures.csv": MEASURES,
            "engagement.csv": ENGAGEMENT,
        }
        for name, header in headers.items():
            handle = stack.enter_context((out / name).open("w", newline="", encoding="utf-8"))
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            self._csv[name] = writer
        for name in FHIR_FILES:
            kind = name.split("/")[1].split(".")[0]
            self._ndjson[kind] = stack.enter_context((out / name).open("w", encoding="utf-8"))

    def row(self, name: str, values: list[Any]) -> None:
        self._csv[name].writerow(values)

    def resource(self, resource: dict[str, Any]) -> None:
        line = json.dumps(resource, separators=(",", ":"), ensure_ascii=False)
        self._ndjson[resource["resourceType"]].write(line + "\n")


def not_a_folder(path: Path) -> bool:
    return path.exists() and not path.is_dir()


def _folders(out: Path) -> None:
    (out / "fhir").mkdir(parents=True, exist_ok=True)


async def write_export(
    db: Database,
    out: Path,
    request: Request,
    *,
    now: datetime,
    key: str,
    progress: Progress | None = None,
) -> int:
    """Write every export file into `out` (created if needed); returns the participants
    exported. The export is audited before any row is written."""
    if not_a_folder(out):
        raise NotADirectoryError(f"{out} exists and is not a directory")
    _folders(out)  # before the audit event: an export that cannot be written is not logged
    total = await people.count(db, request.window)
    async with db.session() as session, session.begin():
        await repo.log(
            session,
            now,
            "research_export",
            None,
            {
                "by": request.by,
                "identified": request.identified,
                "since": iso(request.window.since) or None,
                "until": iso(request.window.until) or None,
                "participants": total,
            },
        )
    ctx = Context(request.window, now, request.identified)
    done = 0
    if progress:
        progress(0, total)
    with ExitStack() as stack:
        files = _Files(out, stack, request.identified)
        async for chunk in people.chunks(db, request.window, key):
            async with db.session() as session:
                await participants(session, chunk, ctx, files)
                await decisions(session, chunk, ctx, files)
                async for admin in administrations(session, chunk, request.window):
                    measure_rows(admin, files)
                    response = fhir.questionnaire_response(admin)
                    if response is not None:
                        files.resource(response)
                    for observation in fhir.observations(admin):
                        files.resource(observation)
                await engagement(session, chunk, ctx, files)
            done += len(chunk)
            if progress:
                progress(min(done, max(total, done)), max(total, done))
    return done
