"""Dashboard charts about outcomes: micro-randomized prompts (availability and proximal response
by action), PHQ-9 / GAD-7 trajectories by arm with 95% CIs, and coach SLA attainment."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.research.charts import Chart, Point, Series
from bot.research.people import each
from bot.research.stats import Running
from bot.research.weeks import MAX_WEEKS, WEEK, monday, week_name
from storage.models import Escalation, Event, StudyDecision, StudyEnrolment
from storage.statuses import DecisionStatus

TRAJECTORIES = (("phq9", "PHQ-9", 27), ("gad7", "GAD-7", 21))
UNAVAILABLE = "unavailable"


async def decisions_chart(session: AsyncSession) -> Chart:
    """Per action: its share of all decisions, and the mean proximal outcome (response rate)
    among decisions with that action whose outcome is known. 'unavailable' is the share of
    decisions where no action could be drawn."""
    rows = await session.execute(
        select(
            StudyDecision.available,
            StudyDecision.action,
            func.count(),
            func.count(StudyDecision.proximal_outcome),
            func.sum(StudyDecision.proximal_outcome),
        )
        .where(StudyDecision.status == DecisionStatus.DECIDED)
        .group_by(StudyDecision.available, StudyDecision.action)
    )
    decided: Counter[str] = Counter()
    known: Counter[str] = Counter()
    responded: dict[str, float] = defaultdict(float)
    for available, action, n, n_known, total in rows.all():
        key = action if available and action else UNAVAILABLE
        decided[key] += n
        known[key] += n_known
        responded[key] += float(total or 0)
    everything = sum(decided.values())
    names = sorted(decided, key=lambda k: (k != UNAVAILABLE, k))
    share, response, table = Series("% of decisions"), Series("% responded"), []
    for index, key in enumerate(names):
        part = 100 * decided[key] / everything
        share.points.append(Point(index, part))
        rate = 100 * responded[key] / known[key] if known[key] and key != UNAVAILABLE else None
        if rate is not None:
            response.points.append(Point(index, rate))
        table.append(
            [key, decided[key], round(part, 1), known[key], "" if rate is None else round(rate, 1)]
        )
    return Chart(
        "prompts",
        "Prompt availability and response rate by action",
        "action drawn",
        "%",
        names,
        [share, response],
        ("action", "decisions", "percent_of_decisions", "outcomes_known", "response_percent"),
        table,
        bars=True,
        y_max=100,
        note="Response: the decision's proximal outcome (for reply_within_hours, the share of "
        "prompts answered within the window).",
    )


async def trajectories(session: AsyncSession) -> list[Chart]:
    """Mean total per week since enrolment, by arm, with a 95% CI (Student's t)."""
    stats: dict[tuple[str, str, int], Running] = defaultdict(Running)
    rows = each(
        session,
        select(StudyEnrolment.arm, StudyEnrolment.enrolled_at, Event.at, Event.data)
        .join(Event, Event.patient_id == StudyEnrolment.patient_id)
        .where(Event.kind == "measure_total", Event.at >= StudyEnrolment.enrolled_at),
    )
    async for arm, enrolled, at, data in rows:
        week = (at - enrolled) // WEEK
        total = (data or {}).get("total")
        if week <= MAX_WEEKS and isinstance(total, int):
            stats[(str(data.get("measure")), arm, week)].add(total)
    charts = []
    for measure, label, top in TRAJECTORIES:
        keys = [k for k in stats if k[0] == measure]
        weeks = max((k[2] for k in keys), default=-1) + 1
        series, table = [], []
        for arm in sorted({k[1] for k in keys}):
            points = []
            for w in range(weeks):
                running = stats.get((measure, arm, w))
                if running is None:
                    continue
                ci = running.ci95()
                points.append(Point(w, running.mean, *(ci or (None, None))))
                low, high = ("", "") if ci is None else (round(ci[0], 2), round(ci[1], 2))
                table.append([w, arm, running.n, round(running.mean, 2), low, high])
            series.append(Series(arm, points))
        charts.append(
            Chart(
                f"{measure}-trajectory",
                f"{label} by arm: mean total with 95% CI, by week since enrolment",
                "week since enrolment",
                f"{label} total",
                [str(w) for w in range(weeks)],
                series,
                ("week_since_enrolment", "arm", "n", "mean", "ci95_low", "ci95_high"),
                table,
                y_max=top,
            )
        )
    return charts


async def sla_chart(session: AsyncSession, start: datetime, now: datetime) -> Chart:
    """Share of study participants' escalations acknowledged within their SLA, per calendar week
    of the escalation. One still open and not yet due is not counted either way."""
    first = monday(start)
    weeks = (monday(now) - first) // WEEK + 1
    met: Counter[int] = Counter()
    judged: Counter[int] = Counter()
    rows = each(
        session,
        select(Escalation.created_at, Escalation.due_at, Escalation.acknowledged_at)
        .join(StudyEnrolment, StudyEnrolment.patient_id == Escalation.patient_id)
        .where(Escalation.created_at >= first),
    )
    async for created, due, acknowledged in rows:
        if acknowledged is None and due > now:
            continue
        week = (monday(created) - first) // WEEK
        judged[week] += 1
        met[week] += acknowledged is not None and acknowledged <= due
    names = [week_name(first + WEEK * w) for w in range(weeks)]
    points, table = [], []
    for w in range(weeks):
        if judged[w]:
            percent = 100 * met[w] / judged[w]
            points.append(Point(w, percent))
            table.append(
                [
                    names[w],
                    (first + WEEK * w).date().isoformat(),
                    judged[w],
                    met[w],
                    round(percent, 1),
                ]
            )
    return Chart(
        "coach-sla",
        "Coach SLA attainment: escalations acknowledged within their SLA",
        "week starting",
        "% within SLA",
        names,
        [Series("within SLA", points)],
        ("week", "week_start", "escalations", "within_sla", "percent"),
        table,
        bars=True,
        y_max=100,
        note="SLA per reason from TANDEM_SLA_MINUTES (an escalation's due time).",
    )
