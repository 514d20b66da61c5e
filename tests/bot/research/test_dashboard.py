"""The study dashboard: its numbers over a seeded study, the 95% CI against scipy, who may see
it (supervisors and admins; coaches 403) and each chart's CSV."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from scipy import stats as scipy_stats

from bot.app import create_app
from bot.coaching import accounts
from bot.research import dashboard
from bot.research.charts import Chart, svg
from bot.research.stats import Running, t975
from bot.service import Tandem
from tests.bot.console.conftest import PASSWORD, login
from tests.bot.research.seed import seed

Client = TestClient[web.Request, web.Application]
SLUGS = [
    "enrolment",
    "retention",
    "weekly-active",
    "prompts",
    "phq9-trajectory",
    "gad7-trajectory",
    "coach-sla",
]


@pytest.fixture
async def client(tandem: Tandem) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(tandem))) as c:
        yield c


async def _charts(tandem: Tandem) -> dict[str, Chart]:
    async with tandem.db.session() as session:
        found = await dashboard.charts(session, tandem.clock.now())
    return {c.slug: c for c in found}


async def _staff(tandem: Tandem, role: str) -> str:
    email = f"{role}.staff@example.org"
    async with tandem.db.session() as session, session.begin():
        await accounts.create_coach(
            session, email, role.title(), role, tandem.clock.now(), password=PASSWORD
        )
    return email


def test_the_confidence_interval_uses_students_t() -> None:
    for df in (1, 2, 5, 17, 30):
        assert t975(df) == pytest.approx(scipy_stats.t.ppf(0.975, df), abs=5e-4)
    assert t975(200) == pytest.approx(scipy_stats.t.ppf(0.975, 200), rel=0.01)
    rng = random.Random(7)
    values = [rng.randint(0, 27) for _ in range(12)]
    running = Running()
    for value in values:
        running.add(value)
    sem = scipy_stats.sem(values)
    low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=running.mean, scale=sem)
    assert running.ci95() == pytest.approx((low, high), abs=1e-2)
    one = Running()
    one.add(5)
    assert one.ci95() is None


async def test_the_charts_count_what_was_seeded(tandem: Tandem) -> None:
    seeded = await seed(tandem.db, patients=8, weeks=4)
    charts = await _charts(tandem)
    assert list(charts) == SLUGS
    enrolment = charts["enrolment"]
    assert {s.name: s.points[-1].y for s in enrolment.series} == {"control": 4, "coached": 4}

    retention = {(r[0], r[1]): r for r in charts["retention"].rows}
    assert retention[(0, "control")][2] == 4 and retention[(0, "coached")][2] == 4
    # Messages stop after four weeks: nobody is retained at week 5; the one withdrawn at day 10
    # (index 3, coached) is not counted as retained from week 2.
    assert retention[(5, "control")][3] == 0
    assert retention[(1, "coached")][3] == 4 and retention[(2, "coached")][3] == 3

    prompts = {r[0]: r for r in charts["prompts"].rows}
    decisions = len(seeded.enrolled) * 28
    unavailable = sum(1 for i in range(8) for d in range(28) if (d + i) % 4 == 0)
    assert prompts["unavailable"][1] == unavailable
    assert sum(r[1] for r in prompts.values()) == decisions
    assert prompts["unavailable"][4] == ""
    assert {"none", "checkin_prompt"} <= set(prompts)
    assert all(0 <= r[4] <= 100 for k, r in prompts.items() if k != "unavailable")

    phq9 = charts["phq9-trajectory"]
    assert {s.name for s in phq9.series} == {"control", "coached"}
    week0 = [r for r in phq9.rows if r[0] == 0]
    assert [r[2] for r in week0] == [4, 4]  # n per arm
    assert all(r[4] <= r[3] <= r[5] for r in phq9.rows)

    [sla] = [r for r in charts["coach-sla"].rows]
    assert (sla[2], sla[3], sla[4]) == (8, 4, 50.0)  # odd patients acknowledged 10 min late


async def test_no_study_no_charts(tandem: Tandem) -> None:
    assert await _charts(tandem) == {}


def test_an_empty_chart_says_so() -> None:
    chart = Chart("x", "Nothing", "week", "n", ["Jan 5"], [], ("a",), [])
    assert "No data yet" in svg(chart) and "<script" not in svg(chart)


@pytest.mark.parametrize("role", ["supervisor", "admin"])
async def test_supervisors_and_admins_see_the_dashboard(
    tandem: Tandem, client: Client, role: str
) -> None:
    await seed(tandem.db, patients=4, weeks=2)
    await login(client, await _staff(tandem, role))
    page = await client.get("/console/study")
    html = await page.text()
    assert page.status == 200
    assert html.count("<svg") == len(SLUGS)
    assert 'href="/console/study"' in html
    for slug in SLUGS:
        assert f'href="/console/study/{slug}.csv"' in html
        response = await client.get(f"/console/study/{slug}.csv")
        assert response.status == 200 and response.content_type == "text/csv"
        rows = list(csv.reader(io.StringIO(await response.text())))
        assert len(rows) > 1 and all(len(r) == len(rows[0]) for r in rows)
    assert (await client.get("/console/study/nothing.csv")).status == 404


async def test_coaches_get_a_403_and_no_link(tandem: Tandem, client: Client) -> None:
    await seed(tandem.db, patients=2, weeks=1)
    await login(client, await _staff(tandem, "coach"))
    queue = await (await client.get("/console/")).text()
    assert 'href="/console/study"' not in queue
    page = await client.get("/console/study")
    assert page.status == 403
    assert "The study dashboard is for supervisors and admins." in await page.text()
    assert (await client.get("/console/study/enrolment.csv")).status == 403


async def test_without_a_study_the_page_says_so(tandem: Tandem, client: Client) -> None:
    await login(client, await _staff(tandem, "supervisor"))
    html = await (await client.get("/console/study")).text()
    assert "No one is enrolled in a study yet" in html and "<svg" not in html
