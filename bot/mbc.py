"""Measurement-based care in the pipeline: every completed measure goes into the patient's
`measure_history` fact (what flows read for the patient's progress), its outcome is logged
(`measure_outcome`), and week-6 non-response opens a routine escalation to the coach, once per
measure and episode. Definitions: `flows.measures.outcomes`.

Installed by `bot.scheduling.handlers.install` next to the measure cadence.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import Handler, Turn
from bot.facts import load_facts, set_facts
from flows import model as m
from flows.measures.outcomes import OUTCOME_MEASURES, Outcome, compute, history_from
from storage.models import Event, PatientFact

if TYPE_CHECKING:
    from bot.pipeline import Pipeline

HISTORY = "measure_history"
FLAGGED = "non_response_flagged"  # {"phq9": "<baseline at>"}: escalated for that episode
REASON = "non_response"
MAX_ENTRIES = 200  # about eight years of fortnightly measures; the oldest go first
SCREENERS = ("phq2", "gad2")


async def backfill(session: AsyncSession, patient_id: str) -> dict[str, Any]:
    """The history rebuilt from the event log (patients measured before the fact existed)."""
    rows = await session.execute(
        select(Event.at, Event.data)
        .where(Event.patient_id == patient_id, Event.kind == "measure_total")
        .order_by(Event.id)
    )
    history: dict[str, Any] = {}
    for at, data in rows.all():
        measure, total = data.get("measure"), data.get("total")
        if measure in OUTCOME_MEASURES and isinstance(total, int):
            history.setdefault(measure, []).append({"total": total, "at": at.isoformat()})
    return history


async def history_of(turn: Turn) -> dict[str, Any]:
    facts = await load_facts(turn.session, turn.patient.id)
    raw = facts.get(HISTORY)
    if isinstance(raw, dict):
        return dict(raw)
    return await backfill(turn.session, turn.patient.id)


def _describe(outcome: Outcome) -> dict[str, Any]:
    return {
        "measure": outcome.measure,
        "baseline": outcome.baseline.total,
        "baseline_at": outcome.baseline.at.isoformat(),
        "total": outcome.latest.total,
        "change_pct": outcome.change_pct,
        "response": outcome.response,
        "remission": outcome.remission,
        "non_response": outcome.non_response,
    }


async def record(turn: Turn, action: m.MeasureScored, history: dict[str, Any]) -> None:
    """The history fact (`history`: as it was before this measure), the outcome, non-response."""
    entry: dict[str, Any] = {"total": action.total, "at": turn.now.isoformat()}
    if action.measure in SCREENERS:
        # Only the latest screener matters: its answers may count in the full measure next.
        entry["answers"] = {str(n): v for n, v in action.answers.items()}
        history[action.measure] = [entry]
    elif action.measure in OUTCOME_MEASURES:
        history[action.measure] = [*list(history.get(action.measure) or []), entry][-MAX_ENTRIES:]
    else:
        return
    outcome = (
        compute(action.measure, history_from(history, action.measure))
        if action.measure in OUTCOME_MEASURES
        else None
    )
    if outcome is not None:
        await turn.log("measure_outcome", _describe(outcome))
        await _non_response(turn, outcome, history)
    await set_facts(turn.session, turn.patient.id, {HISTORY: history}, turn.now)


async def _non_response(turn: Turn, outcome: Outcome, history: dict[str, Any]) -> None:
    if not outcome.non_response or outcome.week6 != outcome.latest:
        return  # only the measure that decides it (the first at or after week 6) raises it
    flagged = dict(history.get(FLAGGED) or {})
    episode = outcome.baseline.at.isoformat()
    if flagged.get(outcome.measure) == episode:
        return
    flagged[outcome.measure] = episode
    history[FLAGGED] = flagged
    weeks = (outcome.latest.at - outcome.baseline.at).days // 7
    detail = (
        f"{outcome.measure} non-response at week {weeks}: {outcome.latest.total} "
        f"(baseline {outcome.baseline.total}, {_date(outcome.baseline.at)}); "
        "less than a 50% drop and not in remission: review the plan"
    )
    await turn.pipeline.handlers.handle(turn, m.Escalate(REASON, "normal", detail))
    await turn.log("non_response", {"measure": outcome.measure, "baseline_at": episode})


async def outcomes_for(session: AsyncSession, patient_id: str) -> dict[str, dict[str, Any]]:
    """The API's `outcomes`: each measure's current episode, from the history fact (or the
    event log for a patient measured before it existed)."""
    row = await session.get(PatientFact, (patient_id, HISTORY))
    history = row.value if row is not None and isinstance(row.value, dict) else None
    if history is None:
        history = await backfill(session, patient_id)
    out: dict[str, dict[str, Any]] = {}
    for measure in OUTCOME_MEASURES:
        outcome = compute(measure, history_from(history, measure))
        if outcome is not None:
            out[measure] = {
                "baseline": outcome.baseline.total,
                "baseline_at": outcome.baseline.at,
                "latest": outcome.latest.total,
                "latest_at": outcome.latest.at,
                "count": outcome.count,
                "change_pct": outcome.change_pct,
                "response": outcome.response,
                "remission": outcome.remission,
                "non_response": outcome.non_response,
            }
    return out


def _date(at: datetime) -> str:
    return at.date().isoformat()


def install(pipeline: Pipeline) -> None:
    """Wrap the MeasureScored and RecordMeasure handlers on `pipeline`."""

    async def on_scored(turn: Turn, action: m.MeasureScored, scored: Handler) -> None:
        # Read before the `measure_total` event is logged, which a backfill would count again.
        history = await history_of(turn)
        await scored(turn, action)
        await record(turn, action, history)

    async def on_item(turn: Turn, action: m.RecordMeasure, item: Handler) -> None:
        await item(turn, action)
        if action.carried_from:
            data = {"measure": action.measure, "item": action.item, "from": action.carried_from}
            await turn.log("measure_carried_over", data)

    pipeline.handlers.wrap(m.MeasureScored, on_scored)
    pipeline.handlers.wrap(m.RecordMeasure, on_item)
