"""``PublicHolidayCondition``: the request arrives on a public holiday of a country or region.

Why the ``holidays`` library: it is maintained, covers far more countries and subdivisions than
any list we could keep, and follows holiday law changes in its releases. Kestra uses Jollyday
with the same ISO codes, so ``country: FR`` and ``subDivision: US-CA`` (or ``CA``) mean the same
in both. Calendars are built once per (country, subdivision, year) and kept.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any

from airflow_webhook_trigger.conditions.calendar import _DateCondition, _Property
from airflow_webhook_trigger.conditions.isodates import local_date
from airflow_webhook_trigger.errors import WebhookDeclarationError

__all__ = ["PublicHolidayCondition", "is_public_holiday"]


def _country(text: str) -> str:
    import holidays  # ~100 country modules: loaded only where a PublicHoliday condition is declared

    code = text.strip().upper()
    if code not in holidays.list_supported_countries():
        hint = " (YAML reads an unquoted NO as false: write \"NO\")" if code in ("FALSE", "TRUE") else ""
        raise ValueError(f"{text!r} is not a country the holidays library knows (ISO 3166-1 alpha-2, e.g. FR, US){hint}")
    return code


@lru_cache(maxsize=512)
def _subdivision(country: str, text: str) -> str:
    """``US-CA``, ``CA``, ``ca`` or ``California`` -> ``CA``; ValueError if the country has no such one."""
    import holidays  # as above

    wanted = text.strip()
    if wanted.upper().startswith(country + "-"):
        wanted = wanted[len(country) + 1 :]
    entity = holidays.country_holidays(country)
    known = {code.upper(): code for code in entity.subdivisions}
    known.update({alias.upper(): code for alias, code in getattr(entity, "subdivisions_aliases", {}).items()})
    if wanted.upper() not in known:
        examples = ", ".join(list(entity.subdivisions)[:6]) or "none"
        raise ValueError(f"{text!r} is not a subdivision of {country} (ISO 3166-2, e.g. {examples})")
    return known[wanted.upper()]


_HOLIDAYS_LOCK = threading.Lock()


@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    import holidays  # as above

    with _HOLIDAYS_LOCK:  # building a calendar is not documented as thread-safe
        return dict(holidays.country_holidays(country, subdiv=subdivision, years=year, expand=False))


def is_public_holiday(day: date, country: str, subdivision: str | None = None) -> bool:
    """Whether ``day`` is a public holiday in ``country`` (and ``subdivision``)."""
    return day in _holidays(country, subdivision, day.year)


class PublicHolidayCondition(_DateCondition):
    """True when ``date`` is a public holiday of ``country`` (and ``subDivision`` when given)."""

    names = ("PublicHoliday",)
    properties = ("date", "country", "subDivision")
    required = ("country",)

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        super().__init__(raw, where)
        self.country = _Property(raw, "country", where, _country)
        self.sub_division = _Property(raw, "subDivision", where, str)
        if self.country.value is not None and self.sub_division.value is not None:
            try:
                self.sub_division.value = _subdivision(self.country.value, self.sub_division.value)
            except ValueError as exc:
                raise WebhookDeclarationError(f"{where}.subDivision", str(exc)) from None

    def holds(self, context: Mapping[str, Any]) -> bool:
        day = local_date(self.rendered_date(context))
        country = self.country.get(context)
        subdivision = self.sub_division.get(context)
        if subdivision:
            subdivision = _subdivision(country, subdivision)
        return is_public_holiday(day, country, subdivision or None)

    def describe(self) -> str:
        where = self.country.source + (f"-{self.sub_division.source}" if self.sub_division.is_set else "")
        return f"PublicHolidayCondition {where}"

