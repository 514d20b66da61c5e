"""An API client against the real app, and two coaches (plus a supervisor) with tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.coaching import accounts
from bot.service import Tandem


@dataclass
class Staff:
    kim: str
    lee: str
    boss: str
    kim_id: str
    lee_id: str


@pytest.fixture
async def client(tandem: Tandem) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(create_app(tandem))) as c:
        yield c


@pytest.fixture
async def staff(tandem: Tandem) -> Staff:
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        kim = await accounts.create_coach(session, "kim@example.org", "Kim", "coach", now)
        lee = await accounts.create_coach(session, "lee@example.org", "Lee", "coach", now)
        boss = await accounts.create_coach(session, "boss@example.org", "Bo", "supervisor", now)
        return Staff(
            kim=await accounts.issue_token(session, kim, now),
            lee=await accounts.issue_token(session, lee, now),
            boss=await accounts.issue_token(session, boss, now),
            kim_id=kim.id,
            lee_id=lee.id,
        )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
