"""Working days on the official Chinese calendar, with its swapped working weekends (调休).

The calendar comes from the `chinesecalendar` package, which knows the State Council's
published schedule year by year. For a year it does not know yet, we refuse loudly rather
than guess: a deadline counted as Monday–Friday would be wrong around every holiday.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

CHINA_TZ = ZoneInfo("Asia/Shanghai")


class CalendarUnknown(Exception):
    """The official calendar for this year is not known (not yet published, or too old)."""


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError as exc:
        raise CalendarUnknown(
            f"the official working-day calendar for {day.year} is not known to this version "
            f"of chinesecalendar ({exc}); update the package once the State Council "
            "publishes the year's holiday schedule"
        ) from exc


def add_working_days(start: datetime, days: int) -> datetime:
    """End of the `days`-th working day after the (Beijing) day of `start`.

    '2 working days' from a message received Friday 10:00 ends Tuesday 24:00; received on
    a holiday, counting starts with the next working day. Returned as an aware datetime.
    """
    local_day = start.astimezone(CHINA_TZ).date()
    counted = 0
    while counted < days:
        local_day += timedelta(days=1)
        if is_working_day(local_day):
            counted += 1
    end_of_day = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=CHINA_TZ)
    return end_of_day
