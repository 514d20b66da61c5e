"""GET /api/v1/exports: admins get the zip of every export file; anyone else a 403 with a reason
(audited); a bad window or flag a 422; the download is in the audit log with the admin's id."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.coaching import accounts
from bot.research.export import FILES
from bot.service import Tandem
from storage.models import Event
from tests.bot.research.seed import seed

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(tandem: Tandem) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(tandem))) as c:
        yield c


async def _token(tandem: Tandem, role: str) -> tuple[str, str]:
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        coach = await accounts.create_coach(session, f"{role}@example.org", role, role, now)
        return await accounts.issue_token(session, coach, now), coach.id


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _events(tandem: Tandem, kind: str) -> list[Event]:
    async with tandem.db.session() as session:
        rows = await session.execute(select(Event).where(Event.kind == kind).order_by(Event.id))
        return list(rows.scalars())


async def test_an_admin_downloads_the_zip(tandem: Tandem, client: Client) -> None:
    seeded = await seed(tandem.db, patients=3, weeks=1)
    token, admin_id = await _token(tandem, "admin")
    response = await client.get("/api/v1/exports", headers=_auth(token))
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    assert sorted(archive.namelist()) == sorted(FILES)
    participants = list(csv.DictReader(io.StringIO(archive.read("participants.csv").decode())))
    assert len(participants) == len(seeded.enrolled) + len(seeded.outside)
    assert "patient_id" not in participants[0]
    everything = b"".join(archive.read(n) for n in FILES).decode().lower()
    assert not [s for s in seeded.secrets if s.lower() in everything]
    [event] = await _events(tandem, "research_export")
    assert event.data["by"] == f"coach:{admin_id}" and event.data["identified"] is False


async def test_identified_and_window_come_from_the_query(tandem: Tandem, client: Client) -> None:
    await seed(tandem.db, patients=2, weeks=1)
    token, _ = await _token(tandem, "admin")
    response = await client.get(
        "/api/v1/exports?identified=true&since=2026-01-05&until=2026-01-08T00:00:00Z",
        headers=_auth(token),
    )
    assert response.status == 200
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    header = archive.read("participants.csv").decode().splitlines()[0]
    assert header.endswith(",patient_id,display_name,channel,address")
    [event] = await _events(tandem, "research_export")
    assert event.data["identified"] is True
    assert (event.data["since"], event.data["until"]) == (
        "2026-01-05T00:00:00Z",
        "2026-01-08T00:00:00Z",
    )


@pytest.mark.parametrize("role", ["coach", "supervisor"])
async def test_only_admins_may_export(tandem: Tandem, client: Client, role: str) -> None:
    token, coach_id = await _token(tandem, role)
    response = await client.get("/api/v1/exports", headers=_auth(token))
    assert response.status == 403
    assert (await response.json())["error"] == "only an admin can download research exports"
    [denied] = await _events(tandem, "api_access_denied")
    assert denied.data["coach_id"] == coach_id and denied.data["path"] == "/api/v1/exports"
    assert await _events(tandem, "research_export") == []
    assert (await client.get("/api/v1/exports")).status == 401


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("since=yesterday", "since must be an ISO date"),
        ("until=2026-13-01", "until must be an ISO date"),
        ("since=2026-02-01&until=2026-01-01", "since must be before until"),
        ("identified=maybe", "identified must be true or false"),
    ],
)
async def test_a_bad_query_is_a_422_naming_it(
    tandem: Tandem, client: Client, query: str, reason: str
) -> None:
    token, _ = await _token(tandem, "admin")
    response = await client.get(f"/api/v1/exports?{query}", headers=_auth(token))
    assert response.status == 422
    assert (await response.json())["error"].startswith(reason)
    assert await _events(tandem, "research_export") == []


async def test_the_openapi_document_lists_the_export(client: Client) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    operation = document["paths"]["/api/v1/exports"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"since", "until", "identified"}
    assert "application/zip" in operation["responses"]["200"]["content"]
