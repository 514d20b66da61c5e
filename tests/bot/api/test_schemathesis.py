"""Schemathesis against /api/v1/openapi.json on a real local port: no input gives a 500."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Err

from bot.app import create_app
from bot.service import Tandem
from tests.bot.api.conftest import Staff

MAX_EXAMPLES = 12


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fuzz(base_url: str, token: str) -> tuple[list[str], dict[str, int]]:
    import requests

    document = requests.get(base_url + "/api/v1/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the served document itself is not a valid schema
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def probe(case: schemathesis.Case[Any]) -> None:
                response = case.call(
                    base_url=base_url, headers={"Authorization": f"Bearer {token}"}
                )
                key = f"{case.method} {case.operation.path}"
                calls[key] = calls.get(key, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path}: {response.text}")

            probe()
    return failures, calls


async def test_no_input_makes_a_server_error(tandem: Tandem, staff: Staff) -> None:
    runner = web.AppRunner(create_app(tandem))
    await runner.setup()
    port = _free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        failures, calls = await asyncio.to_thread(_fuzz, f"http://127.0.0.1:{port}", staff.boss)
    finally:
        await runner.cleanup()
    assert failures == []
    assert len(calls) == 19 and min(calls.values()) >= 5, calls  # every operation was exercised
