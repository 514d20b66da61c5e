"""PATCH /api/v1/patients/{id} (language, stated country) and `country` at enrolment."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.service import Tandem
from storage.models import Event
from tests.bot.api.conftest import Staff, auth
from tests.bot.api.test_api import UNKNOWN, enrol, error

Client = TestClient[web.Request, web.Application]


async def patch(client: Client, token: str, patient_id: str, body: Any) -> Any:
    return await client.patch(f"/api/v1/patients/{patient_id}", json=body, headers=auth(token))


async def test_enrol_with_a_country_shows_it_in_the_patient_json(
    client: Client, staff: Staff
) -> None:
    patient_id = await enrol(client, staff.kim, country="ar", locale="es")
    response = await client.get(f"/api/v1/patients/{patient_id}", headers=auth(staff.kim))
    data = await response.json()
    assert (data["country"], data["locale"]) == ("AR", "es")


@pytest.mark.parametrize("country", ["ZZ", "Mexico", "", "MEX", 52])
async def test_enrol_with_an_unknown_country_is_422(
    client: Client, staff: Staff, country: Any
) -> None:
    body = {"channel": "sms", "address": "+14155550123", "country": country}
    response = await client.post("/api/v1/patients", json=body, headers=auth(staff.kim))
    assert "country" in await error(response, 422)


async def test_patch_changes_language_and_country_and_logs_who(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    patient_id = await enrol(client, staff.kim)
    response = await patch(client, staff.kim, patient_id, {"locale": "es", "country": "mx"})
    assert response.status == 200, await response.text()
    data = await response.json()
    assert (data["locale"], data["country"]) == ("es", "MX")
    response = await patch(client, staff.kim, patient_id, {"country": None})
    assert (await response.json())["country"] is None
    assert (await response.json())["locale"] == "es"  # left out: unchanged
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Event.data).where(Event.kind == "patient_updated").order_by(Event.id)
        )
        logged = [d for d in rows.scalars() if str(d.get("by", "")).startswith("coach:")]
    assert [d["fields"] for d in logged] == [["country", "locale"], ["country"]]


@pytest.mark.parametrize(
    "body",
    [{"locale": "fr"}, {"locale": None}, {"country": "XX"}, {}, {"locale": "es", "extra": 1},
     {"country": 7}],
)  # fmt: skip
async def test_patch_rejects_bad_fields_with_422(
    client: Client, staff: Staff, body: dict[str, Any]
) -> None:
    patient_id = await enrol(client, staff.kim)
    await error(await patch(client, staff.kim, patient_id, body), 422)


async def test_patch_authorization(client: Client, staff: Staff) -> None:
    patient_id = await enrol(client, staff.kim)
    await error(await patch(client, staff.lee, patient_id, {"locale": "es"}), 403)
    await error(await patch(client, staff.kim, UNKNOWN, {"locale": "es"}), 404)
    response = await client.patch(f"/api/v1/patients/{patient_id}", json={"locale": "es"})
    assert response.status == 401
    response = await client.patch(
        f"/api/v1/patients/{patient_id}", data=b"{nope", headers=auth(staff.kim)
    )
    await error(response, 400)
