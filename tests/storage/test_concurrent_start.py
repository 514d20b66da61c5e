"""Several processes starting at once on a fresh PostgreSQL database: the migration runs under an
advisory lock, so three `tandem db upgrade` and two `tandem serve` all come up."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import BACKEND, DEFAULT_PG, _admin
from tests.e2e.server import TANDEM, Server

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="needs PostgreSQL")


@pytest.fixture
def fresh_url() -> Iterator[str]:
    base = os.environ.get("TANDEM_TEST_POSTGRES_URL", DEFAULT_PG)
    name = f"tandem_fresh_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_three_upgrades_at_once(fresh_url: str) -> None:
    env = {**os.environ, "TANDEM_DATABASE_URL": fresh_url}
    procs = [
        subprocess.Popen([str(TANDEM), "db", "upgrade"], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], results


@pytest.mark.timeout(180)
async def test_two_serves_at_once_on_a_fresh_database(fresh_url: str, tmp_path: Path) -> None:
    servers = [Server(fresh_url, tmp_path / f"serve{n}.log") for n in range(2)]
    try:
        await asyncio.gather(*(server.start(timeout=90) for server in servers))
    finally:
        for server in servers:
            server.stop()
