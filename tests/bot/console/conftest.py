"""A console client against the real app, and two coaches and a supervisor with passwords."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.coaching import accounts
from bot.console import live
from bot.service import Tandem

Client = TestClient[web.Request, web.Application]
PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Staff:
    kim: str
    lee: str
    boss: str


@pytest.fixture
async def client(tandem: Tandem) -> AsyncIterator[Client]:
    app = create_app(tandem)
    app[live.HEARTBEAT_SECONDS] = 0.2
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.fixture
async def staff(tandem: Tandem) -> Staff:
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        kim = await accounts.create_coach(
            session, "kim@example.org", "Kim", "coach", now, password=PASSWORD
        )
        lee = await accounts.create_coach(
            session, "lee@example.org", "Lee", "coach", now, password=PASSWORD
        )
        boss = await accounts.create_coach(
            session, "boss@example.org", "Bo", "supervisor", now, password=PASSWORD
        )
        return Staff(kim.id, lee.id, boss.id)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, html[:500]
    return found.group(1)


async def login(client: Client, email: str, password: str = PASSWORD) -> str:
    """Log in; returns the session's CSRF token (from the queue page)."""
    client.session.cookie_jar.clear()
    page = await client.get("/console/login")
    token = csrf_of(await page.text())
    response = await client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf": token, "next": "/console/"},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    queue = await client.get("/console/")
    assert queue.status == 200
    return csrf_of(await queue.text())
