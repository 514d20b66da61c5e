"""Pure, DST-safe calendar arithmetic for daily check-ins in each patient's own time zone.

Nothing here reads the clock: every instant is passed in. Instants are returned as aware UTC.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from phonenumbers import timezone as pn_timezone

__all__ = [
    "default_timezone",
    "defer_to_allowed",
    "guess_timezones",
    "next_daily_fire",
    "resolve_local",
    "validate_timezone",
    "within_grace",
]

# When a country spans several zones we suggest its most populous one first; the patient is
# still asked to confirm (needs_confirmation=True), so this only shapes the suggestion.
_PREFERRED_ZONE: Final[dict[str, str]] = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "AR": "America/Buenos_Aires",
    "CL": "America/Santiago",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "GB": "Europe/London",  # mobiles also list Jersey, Guernsey, Isle of Man: same clock
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "CD": "Africa/Kinshasa",
}
_UNKNOWN_ZONE: Final = "Etc/Unknown"


# Present in some tz databases but never a patient's zone: "localtime" means "wherever the
# server is", "posixrules" is a template, "Factory" is the unset-zone placeholder.
_HOST_ONLY_ZONES: Final = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def _known_zones() -> frozenset[str]:
    # available_timezones() walks the tz database on disk, so do it once per process.
    return frozenset(available_timezones()) - _HOST_ONLY_ZONES


def validate_timezone(name: str) -> str:
    """Return ``name`` unchanged if it is an IANA zone zoneinfo can load, else raise ValueError."""
    # Membership check first: ZoneInfo alone would load any host file, e.g. "localtime".
    if not isinstance(name, str) or name not in _known_zones():
        raise ValueError(f"unknown time zone: {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {name!r}") from exc
    return name


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(validate_timezone(tz))


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {value!r}")


def _require_wall_time(at: time, what: str) -> time:
    if at.tzinfo is not None:
        raise ValueError(f"{what} must be a naive wall-clock time, got {at!r}")
    return at.replace(fold=0)


def _exists(local: datetime) -> bool:
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None, fold=0) == local.replace(tzinfo=None, fold=0)


def _gap_end(local: datetime) -> datetime:
    """The instant a DST gap containing the non-existent ``local`` wall time closes."""
    # fold=0 applies the offset before the transition and fold=1 the one after, so the
    # transition instant lies between the two readings; bisect on whole seconds.
    lo, hi = sorted((local.replace(fold=1).astimezone(UTC), local.replace(fold=0).astimezone(UTC)))
    after_offset = hi.astimezone(local.tzinfo).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + timedelta(seconds=int((hi - lo).total_seconds()) // 2)
        if mid.astimezone(local.tzinfo).utcoffset() == after_offset:
            hi = mid
        else:
            lo = mid
    return hi


def resolve_local(day: date, at: time, tz: str) -> datetime:
    """The aware UTC instant when the wall clock in ``tz`` shows ``at`` on ``day``.

    A wall time skipped by a spring-forward gap moves to the first valid minute after the gap
    (02:30 in New York on the spring-forward day -> 03:00 local). A wall time repeated by a
    fall-back resolves to its first occurrence (fold=0), so it fires once.
    """
    zone = _zone(tz)
    local = datetime.combine(day, _require_wall_time(at, "at"), tzinfo=zone)
    if _exists(local):
        return local.astimezone(UTC)
    end = _gap_end(local)
    # Round the *local* wall clock up to a whole minute: historical LMT offsets carry seconds.
    wall = end.astimezone(zone)
    excess = timedelta(seconds=wall.second, microseconds=wall.microsecond)
    return end + (timedelta(minutes=1) - excess if excess else timedelta(0))


def next_daily_fire(after: datetime, at: time, tz: str) -> datetime:
    """The first daily fire of wall time ``at`` in ``tz`` strictly after ``after``, in UTC.

    Each local calendar day fires at most once: a 01:30 check-in on a fall-back day fires at
    the first 01:30 only, and one in a spring-forward gap fires once at the shifted minute.
    A fire that a gap pushes past midnight into the next local day is dropped in favour of
    that day's own fire; no current zone has such a gap, but Samoa skipped 2011-12-30 whole.
    """
    _require_aware(after, "after")
    zone = _zone(tz)
    start = after.astimezone(zone).date()
    for offset in range(4):
        day = start + timedelta(days=offset)
        fire = resolve_local(day, at, tz)
        if fire > after and fire.astimezone(zone).date() == day:
            return fire
    raise ValueError(f"no daily fire for {at} in {tz} within three days of {after}")


def _in_window(wall: time, start: time, end: time) -> bool:
    if start < end:
        return start <= wall < end
    # The window wraps midnight, e.g. 22:00-06:00.
    return wall >= start or wall < end


def defer_to_allowed(
    at: datetime, tz: str, start: time = time(8), end: time = time(21)
) -> datetime:
    """Respect quiet hours: return ``at`` unchanged if its local time is in [start, end).

    Otherwise return the next local ``start`` (resolved DST-safely) as aware UTC. Windows with
    ``start > end`` wrap midnight; ``start == end`` is rejected as ambiguous.
    """
    _require_aware(at, "at")
    start = _require_wall_time(start, "start")
    end = _require_wall_time(end, "end")
    if start == end:
        raise ValueError(f"quiet-hours window is empty or whole-day: start == end == {start}")
    zone = _zone(tz)
    local = at.astimezone(zone)
    if _in_window(local.time(), start, end):
        return at
    for offset in range(3):
        candidate = resolve_local(local.date() + timedelta(days=offset), start, tz)
        if candidate >= at:
            return candidate
    raise ValueError(f"no allowed time for {at} in {tz} within two days")


def within_grace(due: datetime, now: datetime, grace: timedelta) -> bool:
    """True when ``due <= now <= due + grace`` (a late tick may still send a due message)."""
    _require_aware(due, "due")
    _require_aware(now, "now")
    if grace < timedelta(0):
        raise ValueError(f"grace must not be negative, got {grace}")
    return due <= now <= due + grace


def guess_timezones(e164: str) -> list[str]:
    """IANA zones for an E.164 number's region, preferred first; [] if invalid or unknown."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return []
    if not phonenumbers.is_valid_number(number):
        return []
    known = _known_zones()
    zones = [
        z for z in pn_timezone.time_zones_for_number(number) if z != _UNKNOWN_ZONE and z in known
    ]
    preferred = _PREFERRED_ZONE.get(phonenumbers.region_code_for_number(number) or "")
    if preferred in zones:
        zones.remove(preferred)
        zones.insert(0, preferred)
    return zones


def default_timezone(e164: str, fallback: str) -> tuple[str, bool]:
    """Pick a zone for a new patient: ``(zone, needs_confirmation)``.

    One candidate zone is trusted; several give the preferred one flagged for confirmation;
    none gives ``fallback`` (validated) flagged for confirmation.
    """
    zones = guess_timezones(e164)
    if len(zones) == 1:
        return zones[0], False
    if zones:
        return zones[0], True
    return validate_timezone(fallback), True
