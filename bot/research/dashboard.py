"""The study dashboard's numbers (/console/study): enrolment by arm, retention, weekly active
participants, prompt availability and response by action, PHQ-9 / GAD-7 trajectories by arm
and coach SLA attainment. Each is a Chart (bot/research/charts.py) whose rows are also its CSV.

Rows are streamed and folded into counters; only per-week totals are kept in memory."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.research.charts import Chart, Point, Series
from bot.research.outcomes import decisions_chart, sla_chart, trajectories
from bot.research.people import each
from bot.research.weeks import MAX_WEEKS, WEEK, monday, week_name
from storage.models import Message, StudyEnrolment

RECENT_WEEKS = 12  # weekly active participants: the last twelve calendar weeks


async def study_start(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.min(StudyEnrolment.enrolled_at)))


async def enrolment(session: AsyncSession, start: datetime, now: datetime) -> Chart:
    """Cumulative participants per arm at the end of each calendar week since the first one."""
    first = monday(start)
    weeks = (monday(now) - first) // WEEK + 1
    added: dict[str, Counter[int]] = defaultdict(Counter)
    rows = each(session, select(StudyEnrolment.arm, StudyEnrolment.enrolled_at))
    async for arm, at in rows:
        added[arm][(monday(at) - first) // WEEK] += 1
    names = [week_name(first + WEEK * w) for w in range(weeks)]
    series, table = [], []
    for arm in sorted(added):
        total, points = 0, []
        for w in range(weeks):
            total += added[arm][w]
            points.append(Point(w, total))
            table.append([names[w], (first + WEEK * w).date().isoformat(), arm, total])
        series.append(Series(arm, points))
    return Chart(
        "enrolment",
        "Enrolment by arm over time",
        "week starting",
        "participants",
        names,
        series,
        ("week", "week_start", "arm", "participants"),
        table,
    )


async def retention(session: AsyncSession, now: datetime) -> Chart:
    """Of the participants enrolled at least w weeks ago, the share who wrote in at week w or
    later (and had not withdrawn by then): the usual engagement-retention curve, by arm."""
    last_in = (
        select(Message.patient_id, func.max(Message.created_at).label("last"))
        .where(Message.direction == "in")
        .group_by(Message.patient_id)
        .subquery()
    )
    rows = each(
        session,
        select(
            StudyEnrolment.arm,
            StudyEnrolment.enrolled_at,
            StudyEnrolment.withdrawn_at,
            last_in.c.last,
        ).outerjoin(last_in, last_in.c.patient_id == StudyEnrolment.patient_id),
    )
    at_risk: dict[str, Counter[int]] = defaultdict(Counter)
    kept: dict[str, Counter[int]] = defaultdict(Counter)
    async for arm, enrolled, withdrawn, last in rows:
        observed = min((now - enrolled) // WEEK, MAX_WEEKS)
        end = min(last, withdrawn) if last is not None and withdrawn is not None else last
        through = (end - enrolled) // WEEK if end is not None else -1
        for w in range(observed + 1):
            at_risk[arm][w] += 1
            kept[arm][w] += through >= w
    weeks = max((max(c) for c in at_risk.values()), default=-1) + 1
    series, table = [], []
    for arm in sorted(at_risk):
        points = []
        for w in range(weeks):
            if at_risk[arm][w]:
                share = 100 * kept[arm][w] / at_risk[arm][w]
                points.append(Point(w, share))
                table.append([w, arm, at_risk[arm][w], kept[arm][w], round(share, 1)])
        series.append(Series(arm, points))
    return Chart(
        "retention",
        "Retention: participants still writing in, by week since enrolment",
        "week since enrolment",
        "% of participants",
        [str(w) for w in range(weeks)],
        series,
        ("week_since_enrolment", "arm", "participants", "retained", "percent"),
        table,
        y_max=100,
    )


async def weekly_active(session: AsyncSession, now: datetime) -> Chart:
    """Participants who sent at least one message, per calendar week (the last twelve)."""
    first = monday(now) - WEEK * (RECENT_WEEKS - 1)
    rows = each(
        session,
        select(StudyEnrolment.arm, Message.patient_id, Message.created_at)
        .join(Message, Message.patient_id == StudyEnrolment.patient_id)
        .where(Message.direction == "in", Message.created_at >= first)
        .order_by(Message.patient_id),
    )
    active: dict[str, Counter[int]] = defaultdict(Counter)
    current, seen = None, set[int]()
    async for arm, pid, at in rows:
        if pid != current:  # rows come per participant: count each one's weeks once
            current, seen = pid, set()
        week = (monday(at) - first) // WEEK
        if week not in seen:
            seen.add(week)
            active[arm][week] += 1
    names = [week_name(first + WEEK * w) for w in range(RECENT_WEEKS)]
    series, table = [], []
    for arm in sorted(active):
        series.append(Series(arm, [Point(w, active[arm][w]) for w in range(RECENT_WEEKS)]))
        table += [
            [names[w], (first + WEEK * w).date().isoformat(), arm, active[arm][w]]
            for w in range(RECENT_WEEKS)
        ]
    return Chart(
        "weekly-active",
        "Weekly active participants (sent at least one message)",
        "week starting",
        "participants",
        names,
        series,
        ("week", "week_start", "arm", "active_participants"),
        table,
        bars=True,
    )


async def charts(session: AsyncSession, now: datetime) -> list[Chart]:
    """Every dashboard chart, in page order; empty when nobody is enrolled in a study."""
    start = await study_start(session)
    if start is None:
        return []
    return [
        await enrolment(session, start, now),
        await retention(session, now),
        await weekly_active(session, now),
        await decisions_chart(session),
        *await trajectories(session),
        await sla_chart(session, start, now),
    ]
