"""Calendar conditions: the day, the time or the holiday a request arrives on.

Kestra's ``DayWeek``, ``DayWeekInMonth``, ``Weekend``, ``DateTimeBetween``, ``TimeBetween`` and
``PublicHoliday`` conditions, with its property names and its semantics. Why they exist on a
webhook at all: "run on business days only" or "only during the change window" is a gate a
sender cannot be asked to implement. ``date`` is a template defaulting to ``{{ trigger.date }}``,
the UTC time the request was received; ``{{ trigger.date }}[Europe/Paris]`` (Java's zoned
date-time syntax, which Kestra reads too) judges the same instant on Paris's calendar and clock,
daylight saving time included.

A property given as a literal is checked when the declaration is read, so a typo such as
``dayOfWeek: MONDEY`` is the DAG's import error naming the field. A property holding a template
is checked when rendered: a bad value then makes the condition false (and is logged), as every
condition error does.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Any

from airflow_webhook_trigger.conditions.base import Condition, check_fields, template_field
from airflow_webhook_trigger.conditions.isodates import (
    WEEKDAYS,
    local_date,
    parse_offset_time,
    parse_zoned_datetime,
    seconds_of_day,
)
from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.templating import render

__all__ = [
    "DayWeekCondition",
    "DayWeekInMonthCondition",
    "WeekendCondition",
    "DateTimeBetweenCondition",
    "TimeBetweenCondition",
]

DEFAULT_DATE = "{{ trigger.date }}"
DAYS_IN_MONTH = ("FIRST", "SECOND", "THIRD", "FOURTH", "LAST")


def _is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


class _Property:
    """A property that is either a literal (parsed now) or a template (rendered, then parsed)."""

    def __init__(self, raw: Mapping[str, Any], name: str, where: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self.parse = parse
        self.source = template_field(raw, name, where)
        self.value: Any = None
        if self.source is not None and not _is_template(self.source):
            try:
                self.value = parse(self.source)
            except ValueError as exc:
                raise WebhookDeclarationError(f"{where}.{name}", str(exc)) from None

    @property
    def is_set(self) -> bool:
        return self.source is not None

    def get(self, context: Mapping[str, Any]) -> Any:
        if self.source is None or not _is_template(self.source):
            return self.value
        try:
            return self.parse(render(self.source, context).strip())
        except ValueError as exc:
            raise ValueError(f"{self.name}: {exc}") from None


def _weekday(text: str) -> int:
    day = text.strip().upper()
    if day not in WEEKDAYS:
        raise ValueError(f"must be one of {', '.join(WEEKDAYS)}, got {text!r}")
    return WEEKDAYS.index(day)


def _day_in_month(text: str) -> str:
    value = text.strip().upper()
    if value not in DAYS_IN_MONTH:
        raise ValueError(f"must be one of {', '.join(DAYS_IN_MONTH)}, got {text!r}")
    return value


class _DateCondition(Condition):
    """A condition on ``date``: a template giving an ISO date or zoned date-time."""

    properties: tuple[str, ...] = ("date",)

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.date = template_field(raw, "date", where, default=DEFAULT_DATE)

    def rendered_date(self, context: Mapping[str, Any]) -> str:
        return render(self.date, context).strip()

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str) -> _DateCondition:
        check_fields(raw, where, cls, required=getattr(cls, "required", ()))
        return cls(raw, where)


class DayWeekCondition(_DateCondition):
    """True when ``date`` falls on ``dayOfWeek`` (MONDAY..SUNDAY)."""

    names = ("DayWeek",)
    properties = ("date", "dayOfWeek")
    required = ("dayOfWeek",)

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        super().__init__(raw, where)
        self.day_of_week = _Property(raw, "dayOfWeek", where, _weekday)

    def holds(self, context: Mapping[str, Any]) -> bool:
        return local_date(self.rendered_date(context)).weekday() == self.day_of_week.get(context)

    def describe(self) -> str:
        return f"DayWeekCondition {self.day_of_week.source}"


class DayWeekInMonthCondition(_DateCondition):
    """True when ``date`` is the FIRST..FOURTH or LAST ``dayOfWeek`` of its month."""

    names = ("DayWeekInMonth",)
    properties = ("date", "dayOfWeek", "dayInMonth")
    required = ("dayOfWeek", "dayInMonth")

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        super().__init__(raw, where)
        self.day_of_week = _Property(raw, "dayOfWeek", where, _weekday)
        self.day_in_month = _Property(raw, "dayInMonth", where, _day_in_month)

    def holds(self, context: Mapping[str, Any]) -> bool:
        current = local_date(self.rendered_date(context))
        weekday, which = self.day_of_week.get(context), self.day_in_month.get(context)
        if which == "LAST":
            last = current.replace(day=_stdlib_calendar.monthrange(current.year, current.month)[1])
            wanted = last - timedelta(days=(last.weekday() - weekday) % 7)
        else:
            first = current.replace(day=1)
            wanted = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * DAYS_IN_MONTH.index(which))
        return wanted == current

    def describe(self) -> str:
        return f"DayWeekInMonthCondition {self.day_in_month.source} {self.day_of_week.source}"


class WeekendCondition(_DateCondition):
    """True when ``date`` is a Saturday or a Sunday."""

    names = ("Weekend",)

    def holds(self, context: Mapping[str, Any]) -> bool:
        return local_date(self.rendered_date(context)).weekday() >= 5


class _BetweenCondition(_DateCondition):
    """``after`` and/or ``before``: at least one is required (Kestra fails at run time; we say so now)."""

    properties = ("date", "after", "before")
    parse_bound: Callable[[str], Any]

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        super().__init__(raw, where)
        self.after = _Property(raw, "after", where, type(self).parse_bound)
        self.before = _Property(raw, "before", where, type(self).parse_bound)
        if not self.after.is_set and not self.before.is_set:
            raise WebhookDeclarationError(f"{where}.after", "at least one of after or before is required")

    def describe(self) -> str:
        bounds = [f"{name} {p.source}" for name, p in (("after", self.after), ("before", self.before)) if p.is_set]
        return f"{self.type_name} " + " ".join(bounds)


class DateTimeBetweenCondition(_BetweenCondition):
    """True when ``after <= date <= before`` (bounds included, as in Kestra); instants compared."""

    names = ("DateTimeBetween",)
    parse_bound = staticmethod(parse_zoned_datetime)

    def holds(self, context: Mapping[str, Any]) -> bool:
        current = parse_zoned_datetime(self.rendered_date(context))
        after, before = self.after.get(context), self.before.get(context)
        return (after is None or current >= after) and (before is None or current <= before)


class TimeBetweenCondition(_BetweenCondition):
    """True when the time of ``date`` is strictly after ``after`` and strictly before ``before``.

    A bound with an offset (``16:00:00+02:00``, Kestra's form) is compared with the request's
    time seen at that offset; a bound without one (``16:00:00``) with the wall-clock time of
    ``date`` in its own zone, which follows daylight saving time when ``date`` names a region
    (``{{ trigger.date }}[Europe/Paris]``). ``after`` later than ``before`` is a window across
    midnight (``22:00`` to ``06:00``), which Kestra would never match.
    """

    names = ("TimeBetween",)
    parse_bound = staticmethod(parse_offset_time)

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        super().__init__(raw, where)
        after, before = self.after.value, self.before.value
        if after is not None and before is not None and (after.tzinfo is None) != (before.tzinfo is None):
            raise WebhookDeclarationError(f"{where}.before", "after and before must both have an offset or neither")

    def holds(self, context: Mapping[str, Any]) -> bool:
        current = parse_zoned_datetime(self.rendered_date(context))
        after, before = self.after.get(context), self.before.get(context)
        if after is not None and before is not None:
            if (after.tzinfo is None) != (before.tzinfo is None):
                raise ValueError("after and before must both have an offset or neither")
            now = _seconds_at(current, after)
            start, end = seconds_of_day(after), _seconds_in(before, after)
            if start < end:
                return start < now < end
            return start > end and (now > start or now < end)
        if after is not None:
            return _seconds_at(current, after) > seconds_of_day(after)
        return _seconds_at(current, before) < seconds_of_day(before)


def _seconds_at(current: datetime, bound: time) -> float:
    """Seconds since midnight of ``current`` as seen at ``bound``'s offset (own zone if none)."""
    if bound.tzinfo is not None:
        current = current.astimezone(bound.tzinfo)
    return seconds_of_day(current.time())


def _seconds_in(bound: time, reference: time) -> float:
    """``bound`` in seconds since midnight at ``reference``'s offset (both naive: as is)."""
    if bound.tzinfo is None or reference.tzinfo is None:
        return seconds_of_day(bound)
    shift = reference.utcoffset().total_seconds() - bound.utcoffset().total_seconds()
    return (seconds_of_day(bound) + shift) % 86400
