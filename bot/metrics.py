"""Prometheus metrics at GET /metrics (README "Metrics"): counters and histograms the process
updates as it works, and gauges read from the database at scrape time (the database is the
truth, shared by every process: outbox depth, due schedules, open escalations)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from storage.db import Database
from storage.models import Escalation, OutboxItem, ScheduleItem
from storage.statuses import EscalationStatus, OutboxStatus, ScheduleStatus

REGISTRY = CollectorRegistry()
INBOUND = Counter(
    "tandem_inbound_messages",
    "Inbound patient messages by channel and outcome (accepted, duplicate, rejected)",
    ["channel", "outcome"],
    registry=REGISTRY,
)
STEP_SECONDS = Histogram(
    "tandem_step_seconds",
    "Time to process a patient's pending inbound messages (engine steps, interceptors)",
    ["channel"],
    registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SENDS = Counter(
    "tandem_sends",
    "Provider send attempts by channel and result (sent, retry, failed)",
    ["channel", "result"],
    registry=REGISTRY,
)
SCHEDULE_LAG = Histogram(
    "tandem_schedule_lag_seconds",
    "Now minus the due time when a scheduled item fires",
    registry=REGISTRY,
    buckets=(1, 5, 10, 30, 60, 300, 900, 3600, 7200),
)
HTTP_SECONDS = Histogram(
    "tandem_http_request_seconds",
    "HTTP request latency by method and status class",
    ["method", "status"],
    registry=REGISTRY,
)


class _Snapshot(Collector):
    """Gauges read once per scrape, before the registry is rendered."""

    def __init__(self) -> None:
        self.metrics: list[Metric] = []

    def collect(self) -> Iterable[Metric]:
        return list(self.metrics)


_SNAPSHOT = _Snapshot()
REGISTRY.register(_SNAPSHOT)


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


async def _read(db: Database, now: datetime) -> list[Metric]:
    depth = _gauge("tandem_outbox_depth", "Outbox rows waiting to be sent", ["channel"])
    oldest = _gauge(
        "tandem_outbox_oldest_due_seconds", "Age of the oldest due, unsent outbox row", ["channel"]
    )
    due = _gauge("tandem_schedules_due", "Active schedule rows whose fire time has passed", [])
    overdue = _gauge(
        "tandem_schedule_oldest_due_seconds", "How late the most overdue active schedule is", []
    )
    open_esc = _gauge("tandem_escalations_open", "Unresolved escalations", ["priority"])
    breached = _gauge(
        "tandem_escalations_sla_breached", "Open escalations past their SLA", ["priority"]
    )
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxItem.channel, func.count(), func.min(OutboxItem.next_attempt_at))
            .where(OutboxItem.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
            .group_by(OutboxItem.channel)
        )
        for channel, count, first in rows.all():
            depth.add_metric([channel], count)
            oldest.add_metric([channel], max(0.0, (now - first).total_seconds()) if first else 0)
        row = (
            await session.execute(
                select(func.count(), func.min(ScheduleItem.next_fire_at)).where(
                    ScheduleItem.status == ScheduleStatus.ACTIVE, ScheduleItem.next_fire_at <= now
                )
            )
        ).one()
        due.add_metric([], row[0])
        overdue.add_metric([], max(0.0, (now - row[1]).total_seconds()) if row[1] else 0)
        totals = dict(
            (
                await session.execute(
                    select(Escalation.priority, func.count())
                    .where(Escalation.status != EscalationStatus.RESOLVED)
                    .group_by(Escalation.priority)
                )
            ).all()
        )
        late = dict(
            (
                await session.execute(
                    select(Escalation.priority, func.count())
                    .where(Escalation.status == EscalationStatus.OPEN, Escalation.due_at < now)
                    .group_by(Escalation.priority)
                )
            ).all()
        )
        for priority in ("urgent", "high", "normal"):
            open_esc.add_metric([priority], totals.get(priority, 0))
            breached.add_metric([priority], late.get(priority, 0))
    pool = db.engine.pool
    in_use = _gauge("tandem_db_pool_checked_out", "Database connections in use", [])
    in_use.add_metric([], float(getattr(pool, "checkedout", lambda: 0)()))
    size = _gauge("tandem_db_pool_size", "Database connections the pool keeps", [])
    size.add_metric([], float(getattr(pool, "size", lambda: 1)()))
    return [depth, oldest, due, overdue, open_esc, breached, in_use, size]


def handler(
    db: Database, token: str, now: Callable[[], datetime]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET /metrics; with `token` set, only for `Authorization: Bearer <token>`."""

    async def metrics(request: web.Request) -> web.Response:
        if token:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                raise web.HTTPUnauthorized(
                    text="a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
                )
        _SNAPSHOT.metrics = await _read(db, now())
        body = generate_latest(REGISTRY)
        response = web.Response(body=body)
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        response.headers["Cache-Control"] = "no-store"
        return response

    return metrics
