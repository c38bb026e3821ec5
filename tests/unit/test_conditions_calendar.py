"""The calendar conditions: Kestra's semantics, time zones, DST, and strict declarations."""

from __future__ import annotations

import pytest

from airflow_webhook_trigger.conditions import evaluate, parse_conditions
from airflow_webhook_trigger.declarations import parse_declaration
from airflow_webhook_trigger.errors import WebhookDeclarationError


def holds(condition: dict, date: str | None = None, **trigger) -> bool:
    conditions = parse_conditions([condition])
    result = evaluate(conditions, {"trigger": {"date": date, **trigger}})
    return result.met


def refused(condition: dict) -> WebhookDeclarationError:
    with pytest.raises(WebhookDeclarationError) as info:
        parse_declaration({"key": "k", "conditions": [condition]})
    return info.value


# --- type names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_name",
    [
        "DayWeekCondition",
        "DayWeek",
        "io.kestra.plugin.core.condition.DayWeek",
        "io.kestra.plugin.core.condition.DayWeekCondition",
        "io.kestra.core.models.conditions.types.DayWeekCondition",
    ],
)
def test_every_name_of_a_type_is_accepted(type_name):
    assert holds({"type": type_name, "dayOfWeek": "MONDAY"}, "2024-05-06T10:00:00Z")


# --- DayWeekCondition ------------------------------------------------------------------------


def test_day_week_matches_the_day_of_the_date():
    condition = {"type": "DayWeekCondition", "dayOfWeek": "MONDAY"}
    assert holds(condition, "2024-05-06T10:00:00+00:00")
    assert not holds(condition, "2024-05-07T10:00:00+00:00")
    assert holds(condition, "2024-05-06")  # a plain date is a LocalDate in Kestra too


def test_day_week_uses_the_zone_of_the_date():
    condition = {"type": "DayWeekCondition", "dayOfWeek": "MONDAY"}
    sunday_night_utc = "2024-05-05T23:30:00+00:00"
    assert not holds(condition, sunday_night_utc)
    assert holds(condition, "2024-05-06T01:30:00+02:00")  # the same instant, written in Paris time
    assert holds({**condition, "date": "{{ trigger.date }}[Europe/Paris]"}, sunday_night_utc)
    assert not holds({**condition, "date": "{{ trigger.date }}[America/New_York]"}, sunday_night_utc)


def test_day_week_is_case_insensitive_and_templated():
    assert holds({"type": "DayWeekCondition", "dayOfWeek": "monday"}, "2024-05-06")
    condition = {"type": "DayWeekCondition", "dayOfWeek": "{{ trigger.body.day }}"}
    assert holds(condition, "2024-05-06", body={"day": "MONDAY"})
    assert not holds(condition, "2024-05-06", body={"day": "TUESDAY"})
    assert not holds(condition, "2024-05-06", body={"day": "NOT A DAY"})  # an error is false


def test_day_week_refuses_bad_values_naming_the_field():
    error = refused({"type": "DayWeekCondition", "dayOfWeek": "MONDEY"})
    assert error.where == "webhook.conditions[0].dayOfWeek"
    assert "MONDAY" in error.problem
    assert refused({"type": "DayWeekCondition"}).where == "webhook.conditions[0].dayOfWeek"
    assert refused({"type": "DayWeekCondition", "dayOfWeek": "MONDAY", "day": 1}).where == "webhook.conditions[0].day"


def test_a_date_that_is_not_iso_makes_the_condition_false():
    condition = {"type": "DayWeekCondition", "dayOfWeek": "MONDAY", "date": "{{ trigger.body }}"}
    assert not holds(condition, "2024-05-06", body="06/05/2024")
    assert not holds(condition, "2024-05-06", body="2024-05-06T10:00:00")  # no offset: instant unknown
    result = evaluate(parse_conditions([condition]), {"trigger": {"body": "yesterday"}})
    assert not result.met and "ISO 8601" in result.results[0][2]


# --- DayWeekInMonthCondition ------------------------------------------------------------------


@pytest.mark.parametrize(
    "day_in_month, day_of_week, date, expected",
    [
        ("FIRST", "MONDAY", "2024-05-06", True),
        ("FIRST", "MONDAY", "2024-05-13", False),
        ("SECOND", "MONDAY", "2024-05-13", True),
        ("THIRD", "MONDAY", "2024-05-20", True),
        ("FOURTH", "MONDAY", "2024-05-27", True),
        ("LAST", "MONDAY", "2024-05-27", True),  # May 2024 has four Mondays: the fourth is the last
        ("FOURTH", "WEDNESDAY", "2024-05-22", True),  # ... and five Wednesdays
        ("LAST", "WEDNESDAY", "2024-05-22", False),
        ("LAST", "WEDNESDAY", "2024-05-29", True),
        ("LAST", "FRIDAY", "2024-05-31", True),  # the last day of the month
        ("LAST", "THURSDAY", "2024-02-29", True),  # leap day
        ("FIRST", "WEDNESDAY", "2024-05-01", True),  # the first day of the month
        ("FIRST", "TUESDAY", "2024-05-07", True),
    ],
)
def test_day_week_in_month(day_in_month, day_of_week, date, expected):
    condition = {"type": "DayWeekInMonthCondition", "dayOfWeek": day_of_week, "dayInMonth": day_in_month}
    assert holds(condition, date) is expected


def test_day_week_in_month_across_a_month_boundary_in_another_zone():
    condition = {"type": "DayWeekInMonthCondition", "dayOfWeek": "WEDNESDAY", "dayInMonth": "FIRST"}
    # 2024-04-30T23:00Z is Wednesday 1 May in Paris, Tuesday 30 April in UTC
    assert not holds(condition, "2024-04-30T23:00:00+00:00")
    assert holds({**condition, "date": "{{ trigger.date }}[Europe/Paris]"}, "2024-04-30T23:00:00+00:00")


def test_day_week_in_month_refuses_bad_values():
    error = refused({"type": "DayWeekInMonthCondition", "dayOfWeek": "MONDAY", "dayInMonth": "FIFTH"})
    assert error.where == "webhook.conditions[0].dayInMonth" and "LAST" in error.problem
    error = refused({"type": "DayWeekInMonthCondition", "dayOfWeek": "MONDAY"})
    assert error.where == "webhook.conditions[0].dayInMonth"


# --- WeekendCondition --------------------------------------------------------------------------


def test_weekend():
    condition = {"type": "io.kestra.plugin.core.condition.Weekend"}
    assert holds(condition, "2024-05-04T12:00:00Z")  # Saturday
    assert holds(condition, "2024-05-05T12:00:00Z")  # Sunday
    assert not holds(condition, "2024-05-03T12:00:00Z")  # Friday
    assert not holds(condition, "2024-05-06T12:00:00Z")  # Monday
    # Friday 23:30 UTC is already Saturday in Tokyo
    assert holds({**condition, "date": "{{ trigger.date }}[Asia/Tokyo]"}, "2024-05-03T23:30:00+00:00")


def test_weekend_date_defaults_to_trigger_date():
    condition = parse_conditions([{"type": "WeekendCondition"}])[0]
    assert condition.date == "{{ trigger.date }}"


# --- DateTimeBetweenCondition -------------------------------------------------------------------


def test_date_time_between_includes_its_bounds():
    condition = {
        "type": "DateTimeBetweenCondition",
        "after": "2024-01-01T00:00:00Z",
        "before": "2024-12-31T23:59:59+00:00",
    }
    assert holds(condition, "2024-06-01T12:00:00+00:00")
    assert holds(condition, "2024-01-01T00:00:00+00:00")
    assert holds(condition, "2024-12-31T23:59:59+00:00")
    assert not holds(condition, "2023-12-31T23:59:59+00:00")
    assert not holds(condition, "2025-01-01T00:00:00+00:00")


def test_date_time_between_compares_instants_across_offsets():
    after = {"type": "DateTimeBetweenCondition", "after": "2024-06-01T10:00:00+02:00"}
    assert holds(after, "2024-06-01T08:00:00+00:00")  # the same instant
    assert not holds(after, "2024-06-01T08:59:59+01:00")  # 07:59:59 UTC
    assert holds(after, "2024-06-01T08:00:00.000001Z")
    before = {"type": "DateTimeBetweenCondition", "before": "2024-06-01T10:00:00+02:00[Europe/Paris]"}
    assert holds(before, "2024-06-01T07:59:00Z")
    assert not holds(before, "2024-06-01T08:00:01Z")


def test_date_time_between_needs_zoned_date_times():
    error = refused({"type": "DateTimeBetweenCondition", "after": "2024-01-01T00:00:00"})
    assert error.where == "webhook.conditions[0].after" and "offset" in error.problem
    assert refused({"type": "DateTimeBetweenCondition", "before": "2024-01-01"}).where.endswith(".before")
    assert refused({"type": "DateTimeBetweenCondition", "before": "2024-13-01T00:00:00Z"}).where.endswith(".before")
    assert refused({"type": "DateTimeBetweenCondition", "before": "2024-01-01T00:00:00Z[Mars/Olympus]"}).where.endswith(
        ".before"
    )
    error = refused({"type": "DateTimeBetweenCondition"})
    assert error.where == "webhook.conditions[0].after" and "at least one" in error.problem


def test_date_time_between_with_a_plain_date_is_false():
    assert not holds({"type": "DateTimeBetweenCondition", "after": "2024-01-01T00:00:00Z"}, "2024-06-01")


def test_date_time_between_with_templated_bounds():
    condition = {"type": "DateTimeBetweenCondition", "after": "{{ trigger.body.start }}"}
    assert holds(condition, "2024-06-01T00:00:00Z", body={"start": "2024-05-01T00:00:00Z"})
    assert not holds(condition, "2024-06-01T00:00:00Z", body={"start": "2024-07-01T00:00:00Z"})
    assert not holds(condition, "2024-06-01T00:00:00Z", body={"start": "soon"})


# --- TimeBetweenCondition ---------------------------------------------------------------------


def test_time_between_kestra_example_with_offsets():
    condition = {"type": "TimeBetweenCondition", "after": "16:00:00+02:00", "before": "20:00:00+02:00"}
    assert holds(condition, "2024-06-01T15:00:00+00:00")  # 17:00 at +02:00
    assert not holds(condition, "2024-06-01T13:59:00+00:00")
    assert not holds(condition, "2024-06-01T18:30:00+00:00")
    assert not holds(condition, "2024-06-01T14:00:00+00:00")  # bounds excluded, as in Kestra
    assert holds(condition, "2024-06-01T17:00:00+01:00")  # any offset: the instant counts


def test_time_between_one_bound():
    assert holds({"type": "TimeBetweenCondition", "after": "12:00:00Z"}, "2024-06-01T12:00:01Z")
    assert not holds({"type": "TimeBetweenCondition", "after": "12:00:00Z"}, "2024-06-01T11:59:59Z")
    assert holds({"type": "TimeBetweenCondition", "before": "12:00Z"}, "2024-06-01T11:59:59Z")
    # "after 01:00 at +02:00" is 01:00..24:00 there, including 23:30 UTC of the day before
    assert holds({"type": "TimeBetweenCondition", "after": "01:00:00+02:00"}, "2024-06-01T23:30:00Z")
    assert not holds({"type": "TimeBetweenCondition", "after": "01:00:00+02:00"}, "2024-06-01T22:30:00Z")


def test_time_between_overnight_window():
    condition = {"type": "TimeBetweenCondition", "after": "22:00:00Z", "before": "06:00:00Z"}
    assert holds(condition, "2024-06-01T23:00:00Z")
    assert holds(condition, "2024-06-01T02:00:00Z")
    assert not holds(condition, "2024-06-01T12:00:00Z")
    # a window whose ends are written at different offsets
    crossing = {"type": "TimeBetweenCondition", "after": "23:00:00+02:00", "before": "02:00:00Z"}
    assert holds(crossing, "2024-06-01T21:30:00Z") and holds(crossing, "2024-06-01T01:00:00Z")
    assert not holds(crossing, "2024-06-01T02:30:00Z")


def test_time_between_wall_clock_follows_daylight_saving_time():
    business_hours = {
        "type": "TimeBetweenCondition",
        "date": "{{ trigger.date }}[Europe/Paris]",
        "after": "09:00:00",
        "before": "17:00:00",
    }
    assert holds(business_hours, "2024-07-01T07:30:00+00:00")  # 09:30 CEST (+02:00)
    assert not holds(business_hours, "2024-01-15T07:30:00+00:00")  # 08:30 CET (+01:00)
    assert holds(business_hours, "2024-01-15T08:30:00+00:00")  # 09:30 CET
    # the night clocks go forward: 2024-03-31 01:30 UTC is 03:30 CEST
    night = {**business_hours, "after": "03:00:00", "before": "04:00:00"}
    assert holds(night, "2024-03-31T01:30:00+00:00")
    # a fixed offset does not follow DST (Kestra's semantics): 09:00+01:00 is 08:00 UTC all year
    fixed = {"type": "TimeBetweenCondition", "after": "09:00:00+01:00", "before": "17:00:00+01:00"}
    assert not holds(fixed, "2024-07-01T07:30:00+00:00")


def test_time_between_refuses_bad_values():
    assert refused({"type": "TimeBetweenCondition", "after": "25:00:00Z"}).where.endswith(".after")
    assert refused({"type": "TimeBetweenCondition", "after": "4pm"}).where.endswith(".after")
    error = refused({"type": "TimeBetweenCondition", "after": "09:00:00", "before": "17:00:00+02:00"})
    assert error.where.endswith(".before") and "both" in error.problem
    assert "at least one" in refused({"type": "TimeBetweenCondition", "date": "{{ trigger.date }}"}).problem


def test_time_between_with_a_plain_date_is_false():
    assert not holds({"type": "TimeBetweenCondition", "after": "00:00:00Z"}, "2024-06-01")


# --- PublicHolidayCondition --------------------------------------------------------------------


def test_public_holiday_of_a_country():
    condition = {"type": "PublicHolidayCondition", "country": "FR"}
    assert holds(condition, "2024-07-14T10:00:00Z")
    assert not holds(condition, "2024-07-15T10:00:00Z")
    assert holds({"type": "PublicHolidayCondition", "country": "fr"}, "2024-12-25")


@pytest.mark.parametrize("sub_division", ["BY", "DE-BY", "by", "Bayern"])
def test_public_holiday_of_a_subdivision_only(sub_division):
    epiphany = "2024-01-06"  # a holiday in Bavaria, not in Berlin nor in Germany as a whole
    assert holds({"type": "PublicHolidayCondition", "country": "DE", "subDivision": sub_division}, epiphany)
    assert not holds({"type": "PublicHolidayCondition", "country": "DE", "subDivision": "BE"}, epiphany)
    assert not holds({"type": "PublicHolidayCondition", "country": "DE"}, epiphany)


def test_public_holiday_us_state():
    chavez = "2024-03-31"
    assert holds({"type": "PublicHolidayCondition", "country": "US", "subDivision": "US-CA"}, chavez)
    assert holds({"type": "PublicHolidayCondition", "country": "US", "subDivision": "CA"}, chavez)
    assert not holds({"type": "PublicHolidayCondition", "country": "US", "subDivision": "NY"}, chavez)


def test_public_holiday_uses_the_zone_of_the_date():
    condition = {"type": "PublicHolidayCondition", "country": "FR", "date": "{{ trigger.date }}[Europe/Paris]"}
    assert holds(condition, "2024-07-13T22:30:00+00:00")  # already 14 July in Paris
    assert not holds({"type": "PublicHolidayCondition", "country": "FR"}, "2024-07-13T22:30:00+00:00")


def test_public_holiday_templated_country_and_date():
    condition = {"type": "PublicHolidayCondition", "country": "{{ trigger.body.country }}", "date": "{{ trigger.body.day }}"}
    assert holds(condition, body={"country": "GB", "day": "2024-12-26"})
    assert not holds(condition, body={"country": "GB", "day": "2024-12-27"})
    assert not holds(condition, body={"country": "ATLANTIS", "day": "2024-12-26"})


def test_public_holiday_refuses_bad_values():
    error = refused({"type": "PublicHolidayCondition", "country": "XX"})
    assert error.where == "webhook.conditions[0].country" and "ISO 3166-1" in error.problem
    error = refused({"type": "PublicHolidayCondition", "country": "US", "subDivision": "ZZ"})
    assert error.where == "webhook.conditions[0].subDivision" and "ISO 3166-2" in error.problem
    assert refused({"type": "PublicHolidayCondition"}).where == "webhook.conditions[0].country"


# --- composed with Or / Not -------------------------------------------------------------------


def test_work_days_in_france_as_in_kestras_example():
    work_day = {
        "type": "io.kestra.plugin.core.condition.Not",
        "conditions": [
            {"type": "io.kestra.plugin.core.condition.PublicHoliday", "country": "FR"},
            {"type": "io.kestra.plugin.core.condition.Weekend"},
        ],
    }
    assert holds(work_day, "2024-07-12T10:00:00Z")  # Friday
    assert not holds(work_day, "2024-07-13T10:00:00Z")  # Saturday
    assert not holds(work_day, "2024-05-01T10:00:00Z")  # Wednesday, Labour Day


def test_norway_unquoted_in_yaml_gets_a_hint():
    with pytest.raises(WebhookDeclarationError) as info:
        parse_declaration("key: k\nconditions:\n  - type: PublicHolidayCondition\n    country: NO\n")
    assert info.value.where == "webhook.conditions[0].country" and '"NO"' in info.value.problem
    assert holds({"type": "PublicHolidayCondition", "country": "NO"}, "2024-05-17")  # Constitution Day
