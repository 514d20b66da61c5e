import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scheduling.timecalc import (
    default_timezone,
    defer_to_allowed,
    guess_timezones,
    next_daily_fire,
    resolve_local,
    validate_timezone,
    within_grace,
)

DST_ZONES = [
    "America/New_York",
    "Europe/London",
    "Europe/Madrid",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
]
NO_DST_ZONES = ["Asia/Kolkata", "America/Sao_Paulo"]
YEAR = 2024


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Transition:
    zone: str
    instant: datetime  # UTC instant at which the offset changes
    before: timedelta
    after: timedelta

    @property
    def is_gap(self) -> bool:
        return self.after > self.before

    @property
    def odd_wall(self) -> datetime:
        """A naive wall time in the middle of the skipped or repeated stretch."""
        low = min(self.before, self.after)
        shift = abs(self.after - self.before)
        return (self.instant + low + shift / 2).replace(tzinfo=None)


def transitions(zone: str, year: int = YEAR) -> list[Transition]:
    # Found independently of the code under test: scan UTC in 15-minute steps.
    tz = ZoneInfo(zone)
    found = []
    t = utc(year, 1, 1)
    prev = t.astimezone(tz).utcoffset()
    while t.year == year:
        nxt = t + timedelta(minutes=15)
        off = nxt.astimezone(tz).utcoffset()
        if off != prev:
            assert prev is not None and off is not None
            found.append(Transition(zone, nxt, prev, off))
        prev = off
        t = nxt
    return found


ALL_TRANSITIONS = [tr for z in DST_ZONES for tr in transitions(z)]
GAPS = [tr for tr in ALL_TRANSITIONS if tr.is_gap]
FOLDS = [tr for tr in ALL_TRANSITIONS if not tr.is_gap]


def _id(tr: Transition) -> str:
    return f"{tr.zone}-{tr.instant.date()}"


def test_every_dst_zone_has_both_transitions() -> None:
    for zone in DST_ZONES:
        kinds = sorted(tr.is_gap for tr in transitions(zone))
        assert kinds == [False, True], zone
    for zone in NO_DST_ZONES:
        assert transitions(zone) == []


# --- resolve_local ---------------------------------------------------------------------------


def test_resolve_local_ordinary_times() -> None:
    assert resolve_local(date(2024, 7, 1), time(9), "America/New_York") == utc(2024, 7, 1, 13)
    assert resolve_local(date(2024, 1, 1), time(9), "America/New_York") == utc(2024, 1, 1, 14)
    assert resolve_local(date(2024, 1, 1), time(9), "Asia/Kolkata") == utc(2024, 1, 1, 3, 30)
    assert resolve_local(date(2024, 7, 1), time(0), "UTC").tzinfo is UTC


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        ("America/New_York", date(2024, 3, 10), time(2, 30), utc(2024, 3, 10, 7)),  # 03:00 EDT
        ("America/New_York", date(2024, 3, 10), time(2, 0), utc(2024, 3, 10, 7)),
        ("America/New_York", date(2024, 3, 10), time(2, 59, 59), utc(2024, 3, 10, 7)),
        ("Europe/London", date(2024, 3, 31), time(1, 30), utc(2024, 3, 31, 1)),  # 02:00 BST
        ("Europe/Madrid", date(2024, 3, 31), time(2, 30), utc(2024, 3, 31, 1)),  # 03:00 CEST
        ("Australia/Sydney", date(2024, 10, 6), time(2, 30), utc(2024, 10, 5, 16)),  # 03:00
        ("Australia/Lord_Howe", date(2024, 10, 6), time(2, 15), utc(2024, 10, 5, 15, 30)),
        ("America/Santiago", date(2024, 9, 8), time(0, 30), utc(2024, 9, 8, 4)),  # 01:00 -03
    ],
)
def test_resolve_local_gap_moves_to_end_of_gap(
    zone: str, day: date, at: time, expected: datetime
) -> None:
    assert resolve_local(day, at, zone) == expected


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        ("America/New_York", date(2024, 11, 3), time(1, 30), utc(2024, 11, 3, 5, 30)),  # EDT
        ("Europe/London", date(2024, 10, 27), time(1, 30), utc(2024, 10, 27, 0, 30)),  # BST
        ("Europe/Madrid", date(2024, 10, 27), time(2, 30), utc(2024, 10, 27, 0, 30)),  # CEST
        ("Australia/Sydney", date(2024, 4, 7), time(2, 30), utc(2024, 4, 6, 15, 30)),  # +11
        ("Australia/Lord_Howe", date(2024, 4, 7), time(1, 45), utc(2024, 4, 6, 14, 45)),  # +11
        ("America/Santiago", date(2024, 4, 6), time(23, 30), utc(2024, 4, 7, 2, 30)),  # -03
    ],
)
def test_resolve_local_fold_takes_first_occurrence(
    zone: str, day: date, at: time, expected: datetime
) -> None:
    assert resolve_local(day, at, zone) == expected


@pytest.mark.parametrize("tr", GAPS, ids=_id)
def test_resolve_local_gap_lands_on_transition(tr: Transition) -> None:
    wall = tr.odd_wall
    assert resolve_local(wall.date(), wall.time(), tr.zone) == tr.instant


@pytest.mark.parametrize("tr", FOLDS, ids=_id)
def test_resolve_local_fold_uses_earlier_offset(tr: Transition) -> None:
    wall = tr.odd_wall
    fire = resolve_local(wall.date(), wall.time(), tr.zone)
    assert fire < tr.instant
    assert fire.astimezone(ZoneInfo(tr.zone)).utcoffset() == tr.before


# --- next_daily_fire --------------------------------------------------------------------------


def fires(after: datetime, at: time, zone: str, count: int) -> list[datetime]:
    out = []
    for _ in range(count):
        after = next_daily_fire(after, at, zone)
        out.append(after)
    return out


@pytest.mark.parametrize("tr", ALL_TRANSITIONS, ids=_id)
def test_nine_am_stays_nine_am_for_60_days_across_transition(tr: Transition) -> None:
    tz = ZoneInfo(tr.zone)
    result = fires(tr.instant - timedelta(days=30), time(9), tr.zone, 60)
    local = [f.astimezone(tz) for f in result]
    assert all(f.tzinfo is UTC for f in result)
    assert all(lt.time() == time(9) for lt in local)
    assert [lt.date() for lt in local] == [local[0].date() + timedelta(days=i) for i in range(60)]
    assert local[0].date() <= tr.instant.date() <= local[-1].date()


@pytest.mark.parametrize("zone", NO_DST_ZONES)
def test_no_dst_zone_fires_every_24_hours(zone: str) -> None:
    result = fires(utc(2024, 1, 1), time(9), zone, 60)
    assert {b - a for a, b in itertools.pairwise(result)} == {timedelta(days=1)}
    assert {f.astimezone(ZoneInfo(zone)).time() for f in result} == {time(9)}


@pytest.mark.parametrize("tr", GAPS, ids=_id)
def test_gap_checkin_fires_once_at_next_valid_minute(tr: Transition) -> None:
    wall = tr.odd_wall
    tz = ZoneInfo(tr.zone)
    result = fires(tr.instant - timedelta(days=2), wall.time(), tr.zone, 4)
    on_day = [f for f in result if f.astimezone(tz).date() == wall.date()]
    assert on_day == [tr.instant]
    assert tr.instant.astimezone(tz).second == 0


def test_new_york_0230_on_spring_forward_day() -> None:
    fire = next_daily_fire(utc(2024, 3, 9, 12), time(2, 30), "America/New_York")
    assert fire == utc(2024, 3, 10, 7)
    assert fire.astimezone(ZoneInfo("America/New_York")).time() == time(3)
    assert next_daily_fire(fire, time(2, 30), "America/New_York") == utc(2024, 3, 11, 6, 30)


@pytest.mark.parametrize("tr", FOLDS, ids=_id)
def test_fold_checkin_fires_exactly_once_that_day(tr: Transition) -> None:
    wall = tr.odd_wall
    tz = ZoneInfo(tr.zone)
    result = fires(tr.instant - timedelta(days=2), wall.time(), tr.zone, 4)
    on_day = [f for f in result if f.astimezone(tz).date() == wall.date()]
    assert len(on_day) == 1
    assert on_day[0].astimezone(tz).utcoffset() == tr.before
    # Asking again from between the two occurrences must not produce the repeat.
    between = tr.instant + (tr.before - tr.after) / 4
    assert next_daily_fire(between, wall.time(), tr.zone).astimezone(tz).date() > wall.date()


def test_new_york_0130_on_fall_back_day() -> None:
    first = next_daily_fire(utc(2024, 11, 2, 12), time(1, 30), "America/New_York")
    assert first == utc(2024, 11, 3, 5, 30)
    assert next_daily_fire(first, time(1, 30), "America/New_York") == utc(2024, 11, 4, 6, 30)


def test_next_daily_fire_is_strict_and_accepts_any_aware_tz() -> None:
    due = utc(2024, 7, 1, 13)
    assert next_daily_fire(due, time(9), "America/New_York") == utc(2024, 7, 2, 13)
    assert next_daily_fire(due - timedelta(microseconds=1), time(9), "America/New_York") == due
    madrid = due.astimezone(ZoneInfo("Europe/Madrid"))
    assert next_daily_fire(madrid, time(9), "America/New_York") == utc(2024, 7, 2, 13)


def test_whole_skipped_day_does_not_double_fire() -> None:
    # Samoa skipped 2011-12-30 entirely; the next day must still fire only once.
    tz = ZoneInfo("Pacific/Apia")
    local = [f.astimezone(tz) for f in fires(utc(2011, 12, 27), time(9), "Pacific/Apia", 5)]
    assert [lt.date() for lt in local] == [
        date(2011, 12, 27),
        date(2011, 12, 28),
        date(2011, 12, 29),
        date(2011, 12, 31),
        date(2012, 1, 1),
    ]
    assert {lt.time() for lt in local} == {time(9)}


def test_gap_ending_off_the_minute_rounds_up() -> None:
    # Liberia moved from -00:44:30 to UTC in 1972: the gap closes at 00:44:30 local.
    fire = resolve_local(date(1972, 1, 7), time(0, 10), "Africa/Monrovia")
    assert fire == utc(1972, 1, 7, 0, 45)
    # Lagos moved from UTC to +00:13:35 in 1908: round the local wall clock, not UTC.
    lagos = resolve_local(date(1908, 7, 1), time(0, 5), "Africa/Lagos")
    assert lagos.astimezone(ZoneInfo("Africa/Lagos")).replace(tzinfo=None) == datetime(
        1908, 7, 1, 0, 14
    )


# --- defer_to_allowed -------------------------------------------------------------------------

NY = "America/New_York"


def test_defer_inside_window_is_unchanged() -> None:
    at = utc(2024, 7, 1, 16)  # 12:00 EDT
    assert defer_to_allowed(at, NY) is at
    assert defer_to_allowed(utc(2024, 7, 1, 12), NY) == utc(2024, 7, 1, 12)  # exactly 08:00


def test_defer_before_and_after_window() -> None:
    assert defer_to_allowed(utc(2024, 7, 1, 11), NY) == utc(2024, 7, 1, 12)  # 07:00 -> 08:00
    assert defer_to_allowed(utc(2024, 7, 2, 1), NY) == utc(2024, 7, 2, 12)  # 21:00 -> 08:00
    assert defer_to_allowed(utc(2024, 7, 2, 3, 59), NY) == utc(2024, 7, 2, 12)  # 23:59


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2024, 3, 10, 4), utc(2024, 3, 10, 12)),  # 23:00 EST -> 08:00 EDT
        (utc(2024, 11, 3, 3), utc(2024, 11, 3, 13)),  # 23:00 EDT -> 08:00 EST
        (utc(2024, 11, 3, 6, 30), utc(2024, 11, 3, 13)),  # second 01:30 -> 08:00 EST
    ],
)
def test_defer_across_dst_night(at: datetime, expected: datetime) -> None:
    result = defer_to_allowed(at, NY)
    assert result == expected
    assert result.astimezone(ZoneInfo(NY)).time() == time(8)


def test_defer_start_inside_gap() -> None:
    # Window 02:30-06:00 on spring-forward night: 02:30 does not exist, so 03:00 EDT.
    at = utc(2024, 3, 10, 5)  # 00:00 EST
    assert defer_to_allowed(at, NY, time(2, 30), time(6)) == utc(2024, 3, 10, 7)


def test_defer_wrapping_window() -> None:
    start, end = time(22), time(6)  # e.g. a night-shift patient
    assert defer_to_allowed(utc(2024, 7, 2, 3), NY, start, end) == utc(2024, 7, 2, 3)  # 23:00
    assert defer_to_allowed(utc(2024, 7, 2, 9), NY, start, end) == utc(2024, 7, 2, 9)  # 05:00
    assert defer_to_allowed(utc(2024, 7, 2, 10), NY, start, end) == utc(2024, 7, 3, 2)  # 06:00
    assert defer_to_allowed(utc(2024, 7, 2, 1), NY, start, end) == utc(2024, 7, 2, 2)  # 21:00


def test_defer_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="naive"):
        defer_to_allowed(datetime(2024, 7, 1, 12), NY)
    with pytest.raises(ValueError, match="start == end"):
        defer_to_allowed(utc(2024, 7, 1, 12), NY, time(8), time(8))
    with pytest.raises(ValueError, match="Nowhere/Town"):
        defer_to_allowed(utc(2024, 7, 1, 12), "Nowhere/Town")


# --- within_grace -----------------------------------------------------------------------------


def test_within_grace_bounds() -> None:
    due, grace = utc(2024, 7, 1, 13), timedelta(minutes=30)
    assert within_grace(due, due, grace)
    assert within_grace(due, due + grace, grace)
    assert not within_grace(due, due - timedelta(seconds=1), grace)
    assert not within_grace(due, due + grace + timedelta(seconds=1), grace)
    assert within_grace(due, due.astimezone(ZoneInfo("Asia/Kolkata")), grace)
    with pytest.raises(ValueError, match="naive"):
        within_grace(due, datetime(2024, 7, 1, 13), grace)
    with pytest.raises(ValueError, match="naive"):
        within_grace(datetime(2024, 7, 1, 13), due, grace)
    with pytest.raises(ValueError, match="negative"):
        within_grace(due, due, -grace)


# --- naive / invalid input ------------------------------------------------------------------


def test_naive_and_aware_mixups_raise() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_daily_fire(datetime(2024, 7, 1, 12), time(9), NY)
    with pytest.raises(ValueError, match="wall-clock"):
        resolve_local(date(2024, 7, 1), time(9, tzinfo=UTC), NY)


# --- time zones from phone numbers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+12125551234", ["America/New_York"]),
        ("+34911234567", ["Europe/Madrid"]),
        ("+442071234567", ["Europe/London"]),
        ("+5511987654321", ["America/Sao_Paulo"]),
        ("+15555555555", []),  # invalid number
        ("+80012345678", []),  # valid, but phonenumbers says Etc/Unknown
        ("+999", []),
        ("not a number", []),
        ("", []),
        ("2125551234", []),  # not E.164: no region to guess from
    ],
)
def test_guess_timezones(number: str, expected: list[str]) -> None:
    assert guess_timezones(number) == expected


def test_guess_timezones_puts_preferred_zone_first() -> None:
    toll_free = guess_timezones("+18005551234")
    assert len(toll_free) > 1 and toll_free[0] == "America/New_York"
    assert "Etc/Unknown" not in toll_free
    moscow_mobile = guess_timezones("+79161234567")
    assert moscow_mobile[0] == "Europe/Moscow"
    assert len(set(moscow_mobile)) == len(moscow_mobile)


def test_default_timezone() -> None:
    assert default_timezone("+12125551234", "UTC") == ("America/New_York", False)
    assert default_timezone("+18005551234", "UTC") == ("America/New_York", True)
    assert default_timezone("+15555555555", "Europe/Madrid") == ("Europe/Madrid", True)
    with pytest.raises(ValueError, match="Bad/Zone"):
        default_timezone("+15555555555", "Bad/Zone")


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "localtime", "../etc/passwd", "europe/madrid"]
)
def test_validate_timezone_rejects(name: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone") as info:
        validate_timezone(name)
    assert repr(name) in str(info.value)


@pytest.mark.parametrize("name", [*DST_ZONES, *NO_DST_ZONES, "UTC"])
def test_validate_timezone_accepts(name: str) -> None:
    assert validate_timezone(name) == name


# --- properties ------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)
wall_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
zones = st.sampled_from(DST_ZONES + NO_DST_ZONES)


@settings(max_examples=300, deadline=None)
@given(instants, wall_times, zones)
def test_next_fire_is_strictly_after_and_soon(after: datetime, at: time, zone: str) -> None:
    fire = next_daily_fire(after, at, zone)
    assert fire.tzinfo is UTC
    assert after < fire <= after + timedelta(hours=25)
    local = fire.astimezone(ZoneInfo(zone))
    if local.time() != at:
        # Only a spring-forward gap may move the wall time, by less than the shift (<= 1 h).
        shifted = datetime.combine(local.date(), at)
        assert timedelta(0) < local.replace(tzinfo=None) - shifted <= timedelta(hours=1)


@settings(max_examples=150, deadline=None)
@given(instants, wall_times, zones)
def test_iterating_gives_one_fire_per_local_day(after: datetime, at: time, zone: str) -> None:
    tz = ZoneInfo(zone)
    dates = [f.astimezone(tz).date() for f in fires(after, at, zone, 8)]
    assert dates == [dates[0] + timedelta(days=i) for i in range(8)]


@settings(max_examples=200, deadline=None)
@given(instants, zones, st.sampled_from([(time(8), time(21)), (time(22), time(6))]))
def test_defer_result_is_never_earlier_and_inside_window(
    at: datetime, zone: str, window: tuple[time, time]
) -> None:
    start, end = window
    result = defer_to_allowed(at, zone, start, end)
    assert at <= result <= at + timedelta(hours=25)
    wall = result.astimezone(ZoneInfo(zone)).time()
    assert (start <= wall < end) if start < end else (wall >= start or wall < end)
