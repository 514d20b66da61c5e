"""The clock step: the patient-local time as a flow sees it, with the parts of the day that have
ended (what a check-in at that hour may ask about), across zones, midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.steps.clock import local_facts


def _at(text: str, zone: str = "UTC") -> dict[str, Any]:
    return local_facts(datetime.fromisoformat(text).replace(tzinfo=UTC), zone)


@pytest.mark.parametrize(
    ("utc", "zone", "first", "second"),
    [
        # a 09:00 check-in: yesterday evening, then yesterday afternoon; never "today"
        ("2026-03-03T09:00", "UTC", "2026-03-02 evening", "2026-03-02 afternoon"),
        # 13:00: this morning has ended
        ("2026-03-03T13:00", "UTC", "2026-03-03 morning", "2026-03-02 evening"),
        # 19:00: this afternoon, then this morning
        ("2026-03-03T19:00", "UTC", "2026-03-03 afternoon", "2026-03-03 morning"),
        # 21:30: this evening has ended
        ("2026-03-03T21:30", "UTC", "2026-03-03 evening", "2026-03-03 afternoon"),
        # 02:00 local: still the evening of the day before
        ("2026-03-04T02:00", "UTC", "2026-03-03 evening", "2026-03-03 afternoon"),
        # the zone decides: 08:00 UTC is 09:00 in Madrid, 03:00 in New York (day before's evening)
        ("2026-03-03T08:00", "Europe/Madrid", "2026-03-02 evening", "2026-03-02 afternoon"),
        ("2026-03-03T08:00", "America/New_York", "2026-03-02 evening", "2026-03-02 afternoon"),
        ("2026-03-03T23:30", "America/New_York", "2026-03-03 afternoon", "2026-03-03 morning"),
    ],
)
def test_ended_parts_follow_the_local_clock(utc: str, zone: str, first: str, second: str) -> None:
    ended = _at(utc, zone)["ended"]
    assert [e["key"] for e in ended[:2]] == [first, second]


def test_today_flag_and_local_fields() -> None:
    facts = _at("2026-03-03T18:05", "Europe/Madrid")  # 19:05 in Madrid, a Tuesday
    assert (facts["date"], facts["time"], facts["hour"], facts["weekday"], facts["part"]) == (
        "2026-03-03",
        "19:05",
        19,
        1,
        "evening",
    )
    assert [e["today"] for e in facts["ended"]] == [True, True, False]
    assert [a["date"] for a in facts["ahead"][:2]] == ["2026-03-03", "2026-03-04"]
    assert facts["ahead"][6]["weekday"] == 0  # next Monday
    assert facts["ago"][7] == "2026-02-24"


def test_dst_change_keeps_local_dates() -> None:
    # New York springs forward on 2026-03-08: 13:30 UTC is 09:30 EDT (08:30 the day before, EST).
    assert _at("2026-03-08T13:30", "America/New_York")["time"] == "09:30"
    assert _at("2026-03-07T13:30", "America/New_York")["time"] == "08:30"


def test_unknown_zone_falls_back_to_utc() -> None:
    assert _at("2026-03-03T09:00", "Mars/Olympus")["time"] == "09:00"


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)))
def test_ended_parts_are_past_and_latest_first(naive: datetime) -> None:
    facts = local_facts(naive.replace(tzinfo=UTC), "Europe/Madrid")
    keys = [e["key"] for e in facts["ended"]]
    assert len(keys) == 3 and len(set(keys)) == 3
    order = {"morning": 0, "afternoon": 1, "evening": 2}
    ranks = [(e["date"], order[e["part"]]) for e in facts["ended"]]
    assert ranks == sorted(ranks, reverse=True)
    assert all(e["date"] <= facts["date"] for e in facts["ended"])
