"""The process model: a web-only `tandem serve` in front of a `tandem worker`, and
`tandem serve --workers 2` sharing one port."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import insert, select

from storage.db import Database
from storage.models import ChannelIdentity, Message, Patient, ScheduleItem
from tests.e2e.server import Server, Worker, post, replies, sid

NO_QUIET_HOURS = {"TANDEM_QUIET_HOURS_START": "00:00", "TANDEM_QUIET_HOURS_END": "00:00"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _due_checkin(db_url: str) -> str:
    now = datetime.now(UTC)
    db = Database(db_url)
    try:
        async with db.session() as session, session.begin():
            await session.execute(
                insert(Patient),
                [{"id": "due", "created_at": now, "locale": "en", "timezone": "UTC",
                  "status": "active", "display_name": "Ana", "checkin_time": "09:00",
                  "consent_given": True, "timezone_confirmed": True}],
            )  # fmt: skip
            await session.execute(
                insert(ChannelIdentity),
                [{"patient_id": "due", "channel": "try", "address": "ana", "created_at": now}],
            )
            await session.execute(
                insert(ScheduleItem),
                [{"patient_id": "due", "key": "checkin", "kind": "checkin",
                  "payload": {"flow": "checkin"}, "recurrence": "daily", "local_time": "09:00",
                  "status": "active", "next_fire_at": now, "attempts": 0, "missed": 0,
                  "created_at": now, "updated_at": now}],
            )  # fmt: skip
    finally:
        await db.close()
    return "ana"


async def _sent_to(db_url: str, patient_id: str, timeout: float = 30.0) -> list[str]:
    db = Database(db_url)
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while True:
            async with db.session() as session:
                rows = await session.execute(
                    select(Message.body).where(
                        Message.patient_id == patient_id,
                        Message.direction == "out",
                        Message.status == "sent",
                    )
                )
                sent = list(rows.scalars())
            if sent or asyncio.get_running_loop().time() > deadline:
                return sent
            await asyncio.sleep(0.1)
    finally:
        await db.close()


async def test_a_worker_behind_a_web_only_server_delivers_and_fires_checkins(
    db_url: str, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    fast = {"TANDEM_SCHEDULER_INTERVAL_SECONDS": "0.2", **NO_QUIET_HOURS}
    web = Server(db_url, tmp_path / "web.log", args=("--no-background",), **fast)
    worker = Worker(db_url, tmp_path / "worker.log", **fast)
    try:
        await web.start(timeout=90)
        await worker.start(timeout=90)
        assert '"background": false' in (tmp_path / "web.log").read_text()
        api = f"{web.url}/try/api/messages"
        assert (await post(http, api, {"session": sid("kim"), "text": "hello"}))[0] == 202
        assert len(await replies(http, web.url, "kim", 3)) == 3  # sent by the worker

        await _due_checkin(db_url)
        assert await _sent_to(db_url, "due")  # fired and sent by the worker
        assert worker.terminate() == 0
        assert web.terminate() == 0
    finally:
        worker.stop()
        web.stop()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()]


async def test_serve_with_two_workers_answers_on_one_port_and_stops_cleanly(
    db_url: str, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    web = Server(db_url, tmp_path / "web.log", args=("--workers", "2"))
    try:
        await web.start(timeout=90)  # two interpreters start at once on a busy machine
        assert web.proc is not None
        deadline = asyncio.get_running_loop().time() + 90
        while len(children := _children(web.proc.pid)) < 2:  # the second may still be starting
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.1)
        for _ in range(10):
            async with http.get(f"{web.url}/readyz") as resp:
                assert resp.status == 200
        api = f"{web.url}/try/api/messages"
        assert (await post(http, api, {"session": sid("lee"), "text": "hello"}))[0] == 202
        assert web.terminate() == 0
        assert not [pid for pid in children if os.path.exists(f"/proc/{pid}")]
    finally:
        web.stop()


async def test_web_processes_do_not_outlive_a_killed_supervisor(
    db_url: str, tmp_path: Path
) -> None:
    web = Server(db_url, tmp_path / "web.log", args=("--workers", "2"))
    try:
        await web.start(timeout=90)
        assert web.proc is not None
        children = _children(web.proc.pid)
        assert children
        web.kill()
        deadline = asyncio.get_running_loop().time() + 60
        while [pid for pid in children if _alive(pid)]:
            assert asyncio.get_running_loop().time() < deadline, "web processes outlived it"
            await asyncio.sleep(0.1)
    finally:
        web.stop()


def _alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
