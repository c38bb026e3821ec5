"""Reading the ISO 8601 dates, date-times and times that calendar conditions compare.

Why strict patterns rather than ``datetime.fromisoformat`` alone: Kestra parses these with
Java's ``ZonedDateTime``/``OffsetTime``, which refuse a date-time without an offset (its instant
would depend on the server's zone) and accept a region in brackets
(``2024-03-31T01:30:00Z[Europe/Paris]``: that instant on Paris's calendar). Python's parser is
looser in places (basic format, naive values) and stricter in others (more than six fraction
digits), so the text is checked against the Java forms first and then handed to Python.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["WEEKDAYS", "parse_zoned_datetime", "local_date", "parse_offset_time", "seconds_of_day"]

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")

_FRACTION = r"(?:[.,](\d{1,9}))?"
_OFFSET = r"(Z|[+-]\d{2}:\d{2}(?::\d{2})?)"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZONED = re.compile(
    rf"^(\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}(?::\d{{2}}{_FRACTION})?){_OFFSET}?(?:\[([^\]]+)\])?$"
)
_TIME = re.compile(rf"^(\d{{2}}:\d{{2}}(?::\d{{2}}{_FRACTION})?){_OFFSET}?$")


def _python_iso(text: str, fraction: str | None) -> str:
    """Java allows nine fraction digits, Python six: keep microseconds."""
    if fraction is None:
        return text
    head = re.sub(r"[.,]\d{1,9}$", "", text)
    return f"{head}.{fraction[:6].ljust(6, '0')}"


def _offset(text: str) -> timezone:
    if text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    hours, minutes, *seconds = (int(part) for part in text[1:].split(":"))
    if hours > 18 or minutes > 59:
        raise ValueError(f"offset {text} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes, seconds=seconds[0] if seconds else 0))


def _zone(name: str) -> ZoneInfo | timezone:
    if re.fullmatch(r"Z|UTC|GMT", name):
        return timezone.utc
    if re.fullmatch(r"[+-]\d{2}:\d{2}(?::\d{2})?", name):
        return _offset(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)") from None


def parse_zoned_datetime(text: str) -> datetime:
    """``2024-05-01T10:00:00+02:00``, ``...Z``, ``...+02:00[Europe/Paris]``, ``...[Europe/Paris]``.

    The result is timezone-aware; with a region the instant is seen in that region (its offset
    at that instant, so daylight saving time applies). A date-time without offset or region is
    refused: its instant would be a guess.
    """
    match = _ZONED.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(
            f"{str(text)[:64]!r} is not an ISO 8601 date-time with an offset or zone "
            "(e.g. 2024-05-01T10:00:00Z or 2024-05-01T10:00:00+02:00[Europe/Paris])"
        )
    local, fraction, offset, zone = match.groups()
    try:
        value = datetime.fromisoformat(_python_iso(local, fraction))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date-time: {exc}") from None
    if offset is not None:
        value = value.replace(tzinfo=_offset(offset))
        return value.astimezone(_zone(zone)) if zone else value
    if zone is None:
        raise ValueError(f"{text!r} has no offset or zone (add Z, +02:00 or [Europe/Paris])")
    return value.replace(tzinfo=_zone(zone))


def local_date(text: str) -> date:
    """A plain ``YYYY-MM-DD``, or the calendar date of a zoned date-time in its own zone."""
    stripped = text.strip() if isinstance(text, str) else ""
    if _DATE.match(stripped):
        try:
            return date.fromisoformat(stripped)
        except ValueError as exc:
            raise ValueError(f"{stripped!r} is not a valid date: {exc}") from None
    return parse_zoned_datetime(stripped).date()


def parse_offset_time(text: str) -> time:
    """``16:00``, ``16:00:00``, ``16:00:00.5`` with an optional offset (``Z``, ``+02:00``)."""
    match = _TIME.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{str(text)[:64]!r} is not an ISO 8601 time such as 16:00:00+02:00 or 16:00:00")
    local, fraction, offset = match.groups()
    try:
        value = time.fromisoformat(_python_iso(local, fraction))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid time: {exc}") from None
    return value.replace(tzinfo=_offset(offset)) if offset else value


def seconds_of_day(value: time) -> float:
    return value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
