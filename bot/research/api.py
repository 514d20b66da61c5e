"""GET /api/v1/exports: the research export as one zip (admins only; audited like the CLI).

Query: `since`, `until` (ISO date or date-time, UTC unless an offset is given) and `identified`
(true/false). The files are written to a temporary folder, zipped to a temporary file and
streamed in chunks, so neither the rows nor the zip are ever held in memory."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import zipfile
from pathlib import Path

from aiohttp import web

from bot.api.common import COACH, PREFIX, ApiError, tandem_of
from bot.research.cli import window_of
from bot.research.export import FILES, Request, write_export

CHUNK_BYTES = 256 * 1024
TRUE, FALSE = {"1", "true", "yes"}, {"", "0", "false", "no"}


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in TRUE | FALSE:
        raise ApiError(422, f"identified must be true or false (got {raw[:20]!r})")
    return value in TRUE


def _zip(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in FILES:
            archive.write(folder / name, name)


async def download(request: web.Request) -> web.StreamResponse:
    """The export zip: participants, decisions, measures, engagement, FHIR (docs/DATA.md)."""
    coach = request[COACH]
    if coach.role != "admin":
        raise ApiError(403, "only an admin can download research exports")
    try:
        window = window_of(request.query.get("since"), request.query.get("until"))
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    identified = _flag(request.query.get("identified", ""))
    tandem = tandem_of(request)
    now = tandem.clock.now()
    work = Path(tempfile.mkdtemp(prefix="tandem-export-"))
    try:
        await write_export(
            tandem.db,
            work / "files",
            Request(window, identified, f"coach:{coach.id}"),
            now=now,
            key=tandem.settings.research_key,
        )
        archive = work / "export.zip"
        await asyncio.to_thread(_zip, work / "files", archive)
        response = web.StreamResponse(
            headers={
                "Content-Type": "application/zip",
                "Content-Disposition": (
                    f'attachment; filename="tandem-export-{now:%Y%m%dT%H%M%SZ}.zip"'
                ),
                "Cache-Control": "no-store",
            }
        )
        response.content_length = archive.stat().st_size
        await response.prepare(request)
        with archive.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        shutil.rmtree(work, ignore_errors=True)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(PREFIX + "/exports", download)
