"""Working days on the official Chinese calendar, with its swapped working weekends (调休).

The calendar comes from the `chinesecalendar` package, which knows the State Council's
published schedule year by year. For a year it does not know yet, we refuse loudly rather
than guess: a deadline counted as Monday–Friday would be wrong around every holiday. Once the
State Council publishes a year that the installed package does not have, an operator can
enter it in tracking.yaml (`calendar:`) until the package catches up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from pydantic import BaseModel, ConfigDict

CHINA_TZ = ZoneInfo("Asia/Shanghai")


class CalendarUnknown(Exception):
    """The official calendar for this year is not known (not yet published, or too old)."""


class PublishedYear(BaseModel):
    """One year's schedule as the State Council publishes it: the days off (holidays, with
    the weekends they absorb need not be listed) and the swapped working weekend days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()


def is_working_day(day: date, published: Mapping[int, PublishedYear] | None = None) -> bool:
    year = (published or {}).get(day.year)
    if year is not None:
        if day in year.workdays:
            return True
        return day.weekday() < 5 and day not in year.holidays
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError as exc:
        raise CalendarUnknown(
            f"the official working-day calendar for {day.year} is not known to this version "
            f"of chinesecalendar ({exc}); update the package, or enter the year's published "
            "holidays and swapped working days under 'calendar:' in tracking.yaml"
        ) from exc


def add_working_days(start: datetime, days: int,
                     published: Mapping[int, PublishedYear] | None = None) -> datetime:
    """End of the `days`-th working day after the (Beijing) day of `start`.

    '2 working days' from a message received Friday 10:00 ends Tuesday 24:00; received on
    a holiday, counting starts with the next working day. Returned as an aware datetime.
    """
    local_day = start.astimezone(CHINA_TZ).date()
    counted = 0
    while counted < days:
        local_day += timedelta(days=1)
        if is_working_day(local_day, published):
            counted += 1
    return datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=CHINA_TZ)
