"""Conversions between a stored flow run row and the engine's RunState."""

from __future__ import annotations

from datetime import datetime

from flows import model as m
from storage.models import FlowRun
from storage.statuses import RunStatus


def to_state(row: FlowRun | None) -> m.RunState | None:
    if row is None:
        return None
    return m.RunState(
        run_id=row.run_key,
        flow_id=row.flow_id,
        flow_version=row.flow_version,
        state=row.state,
        variables=dict(row.variables or {}),
        stack=tuple(m.Frame(**frame) for frame in (row.stack or [])),
        retries=row.retries,
        reminded=row.reminded,
        status=row.status,
        waiting_since=row.waiting_since,
        timeout_at=row.timeout_at,
    )


def write_state(row: FlowRun, run: m.RunState, now: datetime) -> None:
    row.flow_id = run.flow_id
    row.flow_version = run.flow_version
    row.state = run.state
    row.variables = dict(run.variables)
    row.stack = [
        {"flow_id": f.flow_id, "flow_version": f.flow_version, "call_state": f.call_state}
        for f in run.stack
    ]
    row.retries = run.retries
    row.reminded = run.reminded
    row.status = run.status
    row.waiting_since = run.waiting_since
    row.timeout_at = run.timeout_at
    row.updated_at = now
    if run.status == RunStatus.ENDED:
        row.ended_at = now
