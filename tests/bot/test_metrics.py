"""GET /metrics after a conversation: the tandem_* series are there and move; a token, when set,
is required."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from flows.library import FlowLibrary
from tests.e2e.server import sid


def _value(text: str, series: str) -> float:
    found = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_series_are_present_and_move(tandem: Tandem) -> None:
    async with TestClient(TestServer(create_app(tandem))) as client:
        before = await (await client.get("/metrics")).text()
        session = sid("metrics")
        for text in ("hello", "I want to kill myself"):
            resp = await client.post("/try/api/messages", json={"session": session, "text": text})
            assert resp.status == 202
        assert (await client.post("/try/api/messages", json={"text": ""})).status == 422
        queued = await (await client.get("/metrics")).text()
        await tandem.dispatcher.drain()
        response = await client.get("/metrics")
        assert response.status == 200 and response.content_type == "text/plain"
        after = await response.text()
    accepted = 'tandem_inbound_messages_total{channel="try",outcome="accepted"}'
    assert _value(after, accepted) == _value(before, accepted) + 2
    rejected = 'tandem_inbound_messages_total{channel="try",outcome="rejected"}'
    assert _value(after, rejected) == _value(before, rejected) + 1
    steps = 'tandem_step_seconds_count{channel="try"}'
    assert _value(after, steps) == _value(before, steps) + 2
    assert _value(queued, 'tandem_outbox_depth{channel="try"}') > 0
    sent = 'tandem_sends_total{channel="try",result="sent"}'
    assert _value(after, sent) > _value(before, sent)
    assert _value(after, 'tandem_escalations_open{priority="urgent"}') == 1
    for name in (
        "tandem_outbox_oldest_due_seconds",
        "tandem_schedules_due",
        "tandem_schedule_oldest_due_seconds",
        "tandem_schedule_lag_seconds_count",
        "tandem_escalations_sla_breached",
        "tandem_db_pool_checked_out",
        "tandem_http_request_seconds_count",
    ):
        assert name in after, name


async def test_metrics_token(db_url: str, clock: FakeClock, library: FlowLibrary) -> None:
    settings = Settings(database_url=db_url, try_channel="on", metrics_token="s3cret")
    service = Tandem(settings, clock=clock, library=library)
    try:
        async with TestClient(TestServer(create_app(service))) as client:
            assert (await client.get("/metrics")).status == 401
            wrong = {"Authorization": "Bearer nope"}
            assert (await client.get("/metrics", headers=wrong)).status == 401
            right = {"Authorization": "Bearer s3cret"}
            assert (await client.get("/metrics", headers=right)).status == 200
    finally:
        await service.close()
