"""The study dashboard (/console/study) and each chart's data as CSV
(/console/study/<chart>.csv), for supervisors and admins; coaches get a 403 page."""

from __future__ import annotations

import csv
import io

from aiohttp import web

from bot.coaching import accounts
from bot.console.web import COACH, PageError, render, tandem_of
from bot.research import charts, dashboard
from bot.research.charts import Chart

DENIED = "The study dashboard is for supervisors and admins."


async def _charts(request: web.Request) -> list[Chart]:
    if not accounts.sees_all(request[COACH]):
        raise PageError(403, DENIED)
    tandem = tandem_of(request)
    async with tandem.db.session() as session:
        return await dashboard.charts(session, tandem.clock.now())


async def study_page(request: web.Request) -> web.Response:
    found = await _charts(request)
    figures = [(chart, charts.svg(chart)) for chart in found]
    return render(request, "study.html", figures=figures)


async def chart_csv(request: web.Request) -> web.Response:
    slug = request.match_info["chart"]
    found = {chart.slug: chart for chart in await _charts(request)}
    chart = found.get(slug)
    if chart is None:
        raise PageError(404, "There is no study chart with that name.")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(chart.columns)
    writer.writerows(chart.rows)
    return web.Response(
        text=text.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="study-{slug}.csv"'},
    )
