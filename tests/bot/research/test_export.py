"""The analysis-ready export over a seeded study: exact columns, typed values, rows per file,
de-identification of every byte, the --identified columns and audit, the window, and chunking."""

from __future__ import annotations

import csv
import itertools
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.research import people
from bot.research.export import FILES, Request, write_export
from bot.research.ids import participant_id
from bot.research.people import Window
from storage.db import Database
from storage.models import Event
from tests.bot.research.fhir_r4 import observation, questionnaire_response
from tests.bot.research.seed import KEY, START, STUDY, seed

NOW = START + timedelta(weeks=5)
HEADERS = {
    "participants.csv": "participant_id,arm,stratum,enrolled_at,program,status,withdrawn_at",
    "decisions.csv": "participant_id,decision_point,decision_index,decision_time_utc,"
    "decision_time_local,timezone,available,unavailable_reason,action,probability,"
    "policy_version,seed,proximal_outcome,proximal_outcome_at",
    "measures.csv": "participant_id,instrument,administration_id,item,value,total,band,answered_at",
    "engagement.csv": "participant_id,day,messages_in,messages_out,checkins_done,"
    "exercises_done,coach_messages",
}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """The export folder (tmp_path also holds the test's SQLite database)."""
    return tmp_path / "export"


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _utc(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _export(
    database: Database, folder: Path, window: Window | None = None, identified: bool = False
) -> int:
    request = Request(window or Window(), identified, "cli")
    return await write_export(database, folder, request, now=NOW, key=KEY)


async def test_every_file_has_exactly_its_columns_and_typed_values(
    database: Database, out: Path
) -> None:
    seeded = await seed(database)
    count = await _export(database, out)
    assert count == len(seeded.enrolled) + len(seeded.outside)
    for name, header in HEADERS.items():
        assert (out / name).read_text().splitlines()[0] == header
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.*")) == sorted(FILES)

    participants = _rows(out, "participants.csv")
    ids = {r["participant_id"] for r in participants}
    assert len(ids) == count
    enrolled = {participant_id(STUDY, pid, KEY) for pid in seeded.enrolled}
    outside = {participant_id(STUDY, pid, KEY) for pid in seeded.outside}
    assert ids == enrolled | outside
    for row in participants:
        _utc(row["enrolled_at"])
        if row["participant_id"] in enrolled:
            assert row["arm"] in {"control", "coached"} and row["stratum"] in {"en", "es"}
        else:
            assert row["arm"] == row["stratum"] == row["withdrawn_at"] == ""
        assert row["status"] == "active" and row["program"] == "ba"
    assert sum(1 for r in participants if r["withdrawn_at"]) == 1

    decisions = _rows(out, "decisions.csv")
    assert len(decisions) == len(seeded.enrolled) * 28
    assert {r["participant_id"] for r in decisions} == enrolled
    for row in decisions:
        int(row["decision_index"])
        _utc(row["decision_time_utc"])
        datetime.fromisoformat(row["decision_time_local"])
        assert row["available"] in {"0", "1"}
        if row["available"] == "1":
            assert row["unavailable_reason"] == ""
            assert row["action"] in {"none", "checkin_prompt"}
            assert float(row["probability"]) == 0.5
            assert row["proximal_outcome"] in {"0", "1"} and row["seed"]
        else:
            assert set(row["unavailable_reason"].split(";")) <= {"quiet_hours", "paused", "crisis"}
            assert row["action"] == row["probability"] == row["proximal_outcome"] == ""
    assert any(r["unavailable_reason"] == "quiet_hours;paused" for r in decisions)
    # Long format for wcls: one participant's rows together and in time order.
    order = [(r["participant_id"], r["decision_time_utc"]) for r in decisions]
    firsts = [p for i, (p, _) in enumerate(order) if i == 0 or order[i - 1][0] != p]
    assert len(firsts) == len(set(firsts))
    assert all(a <= b for a, b in itertools.pairwise(order) if a[0] == b[0])

    measures = _rows(out, "measures.csv")
    per_admin: dict[str, list[dict[str, str]]] = {}
    for row in measures:
        per_admin.setdefault(row["administration_id"], []).append(row)
        assert row["instrument"] in {"phq9", "gad7"}
        assert 0 <= int(row["value"]) <= 3 and int(row["total"]) >= 0
        _utc(row["answered_at"])
    assert len(per_admin) == count * 4 * 2  # four weeks of PHQ-9 and GAD-7
    for rows in per_admin.values():
        assert [int(r["item"]) for r in rows] == list(range(1, len(rows) + 1))
        assert sum(int(r["value"]) for r in rows) == int(rows[0]["total"])

    engagement = _rows(out, "engagement.csv")
    by_participant: dict[str, list[dict[str, str]]] = {}
    for row in engagement:
        by_participant.setdefault(row["participant_id"], []).append(row)
        date.fromisoformat(row["day"])
        counts = [int(row[c]) for c in HEADERS["engagement.csv"].split(",")[2:]]
        assert min(counts) >= 0
        assert int(row["coach_messages"]) <= int(row["messages_out"])
    assert set(by_participant) == ids
    for pid, rows in by_participant.items():
        days = [date.fromisoformat(r["day"]) for r in rows]
        assert days == [days[0] + timedelta(days=i) for i in range(len(days))], pid
    totals = {
        c: sum(int(r[c]) for r in engagement) for c in HEADERS["engagement.csv"].split(",")[2:]
    }
    assert totals["checkins_done"] > 0 and totals["exercises_done"] > 0
    withdrawn = {r["participant_id"] for r in participants if r["withdrawn_at"]}
    for pid, rows in by_participant.items():
        if pid not in withdrawn:  # four seeded weeks, all inside the export
            assert sum(int(r["checkins_done"]) for r in rows) == 14
            assert sum(int(r["exercises_done"]) for r in rows) == 7
    assert totals["coach_messages"] > 0 and totals["messages_in"] > 0


async def test_no_identifier_or_body_anywhere_in_the_export(database: Database, out: Path) -> None:
    seeded = await seed(database)
    await _export(database, out)
    blob = b"".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())
    text = blob.decode("utf-8").lower()
    assert blob and len(seeded.secrets) > 100
    for secret in seeded.secrets:
        assert secret.lower() not in text, secret
    for word in ("quackenbush", "secret", "+1415", "zebulon", "maybe a bit"):
        assert word not in text


async def test_identified_export_adds_who_and_is_audited(database: Database, out: Path) -> None:
    seeded = await seed(database, patients=2, weeks=1)
    await _export(database, out, identified=True)
    header = (out / "participants.csv").read_text().splitlines()[0]
    assert header == HEADERS["participants.csv"] + ",patient_id,display_name,channel,address"
    rows = {r["patient_id"]: r for r in _rows(out, "participants.csv")}
    assert set(rows) == set(seeded.enrolled + seeded.outside)
    assert all(r["display_name"].endswith("Quackenbush") for r in rows.values())
    assert all(r["channel"] == "sms" and r["address"].startswith("+1415") for r in rows.values())
    # Bodies never go out, even identified.
    assert "secret body" not in "".join(p.read_text() for p in out.rglob("*.*"))
    async with database.session() as session:
        events = list(
            (await session.execute(select(Event).where(Event.kind == "research_export"))).scalars()
        )
    assert [(e.data["by"], e.data["identified"], e.data["participants"]) for e in events] == [
        ("cli", True, 4)
    ]


async def test_the_window_keeps_rows_inside_it(database: Database, out: Path) -> None:
    await seed(database, patients=4, weeks=4)
    since, until = START + timedelta(days=7), START + timedelta(days=14)
    await _export(database, out, Window(since, until))
    decisions = _rows(out, "decisions.csv")
    assert decisions and all(since <= _utc(r["decision_time_utc"]) < until for r in decisions)
    measures = _rows(out, "measures.csv")
    assert measures and all(since <= _utc(r["answered_at"]) < until for r in measures)
    days = {date.fromisoformat(r["day"]) for r in _rows(out, "engagement.csv")}
    assert min(days) >= since.date() - timedelta(days=1) and max(days) <= until.date()


async def test_chunked_reading_writes_the_same_files(
    database: Database, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(database, patients=5, weeks=1)
    await _export(database, out / "one")
    monkeypatch.setattr(people, "CHUNK", 2)
    await _export(database, out / "many")
    for name in FILES:
        assert (out / "one" / name).read_bytes() == (out / "many" / name).read_bytes()


async def test_fhir_resources_are_valid_r4(database: Database, out: Path) -> None:
    await seed(database, patients=3, weeks=2)
    await _export(database, out)
    responses = [
        json.loads(line)
        for line in (out / "fhir/QuestionnaireResponse.ndjson").read_text().splitlines()
    ]
    observations = [
        json.loads(line) for line in (out / "fhir/Observation.ndjson").read_text().splitlines()
    ]
    assert len(responses) == 5 * 2 * 2  # participants x weeks x (PHQ-9, GAD-7)
    for resource in responses:
        assert questionnaire_response(resource) == [], resource
        assert resource["status"] == "completed"
    for resource in observations:
        assert observation(resource) == [], resource
    codes = [o["code"]["coding"][0]["code"] for o in observations]
    assert codes.count("44261-6") == codes.count("70274-6") == codes.count("44260-8") == 10
    ids = {r["id"] for r in responses}
    assert all(o["derivedFrom"][0]["reference"].split("/")[1] in ids for o in observations)
    participants = {r["participant_id"] for r in _rows(out, "participants.csv")}
    assert {r["subject"]["reference"].removeprefix("Patient/") for r in responses} == participants


def test_the_validator_catches_broken_resources() -> None:
    good = {
        "resourceType": "Observation",
        "id": "obs-1",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "44261-6"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-01-05T10:00:00Z",
        "valueInteger": 12,
    }
    assert observation(good) == []
    assert observation({**good, "valueInteger": "12"})
    assert observation({**good, "valueInteger": 30})
    assert observation({**good, "status": "done"})
    assert observation({**good, "effectiveDateTime": "yesterday"})
    assert observation({**good, "code": {"coding": [{"system": "x", "code": "44261-6"}]}})
    assert observation({**good, "subject": {"reference": "Group/1"}})
    assert observation({k: v for k, v in good.items() if k != "category"})
    qr = {
        "resourceType": "QuestionnaireResponse",
        "id": "qr-1",
        "questionnaire": "http://loinc.org/q/69737-5",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "authored": "2026-01-05T10:00:00Z",
        "item": [{"linkId": "69725-0", "answer": [{"valueInteger": 2}]}],
    }
    assert questionnaire_response(qr) == []
    assert questionnaire_response({**qr, "item": [{"linkId": "44250-9", "answer": []}]})
    assert questionnaire_response({**qr, "status": "done"})
    assert questionnaire_response({**qr, "phone": "+14155550100"})
