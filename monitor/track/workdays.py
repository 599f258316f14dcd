"""Working days on the official Chinese calendar, with its swapped working weekends (调休).

The calendar comes from the `chinesecalendar` package, which knows the State Council's
published schedule year by year, and from years an operator entered under `calendar:` in
tracking.yaml (the State Council publishes the next year's schedule in November; the package
follows weeks later). For a year neither knows, a deadline is never left without a due time:
it is counted Monday–Friday without the statutory holidays (which the law fixes: New Year's
Day is off whatever the schedule) and marked provisional, with the reason, so officers see
both the time and that it may move — only the swapped days (调休) are unknown; entering the
year later recomputes it (`recompute.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
from pydantic import BaseModel, ConfigDict

CHINA_TZ = ZoneInfo("Asia/Shanghai")


class PublishedYear(BaseModel):
    """One year's schedule as the State Council publishes it: the days off (holidays, with
    the weekends they absorb need not be listed) and the swapped working weekend days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()


@cache
def package_years() -> frozenset[int]:
    """Years the installed chinesecalendar has a schedule for."""
    return frozenset(day.year for day in (*chinese_calendar.holidays, *chinese_calendar.workdays))


@cache
def statutory_days_off(year: int) -> frozenset[date]:
    """The days off the law fixes for any year (《全国年节及纪念日放假办法》: 元旦, 除夕 and
    春节 初一–初三, 清明, 劳动节 1–2 May, 端午, 中秋, 国庆 1–3 October), by the `holidays`
    package's lunar and solar-term arithmetic. Its days moved by a published schedule are
    left out: only the State Council's schedule settles those."""
    from holidays.countries.china import China  # imported only for a year nobody entered

    days = China(years=year, observed=False, language="en_US")
    return frozenset(day for day, name in days.items() if not name.startswith("Day off"))


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """The package's years plus the years entered in tracking.yaml."""

    published: Mapping[int, PublishedYear]

    def knows(self, year: int) -> bool:
        return year in self.published or year in package_years()

    def known_until_year(self) -> int:
        """The last year of the unbroken run of known years from the package's first."""
        year = min(package_years())
        while self.knows(year + 1):
            year += 1
        return year

    def unknown_years(self, start: date, end: date) -> list[int]:
        return [y for y in range(start.year, end.year + 1) if not self.knows(y)]

    def is_working_day(self, day: date) -> bool:
        """By the official schedule; for a year nobody has entered, Monday–Friday without
        the statutory holidays."""
        year = self.published.get(day.year)
        if year is not None:
            return day in year.workdays or (day.weekday() < 5 and day not in year.holidays)
        if day.year in package_years():
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5 and day not in statutory_days_off(day.year)


@dataclass(frozen=True, slots=True)
class WorkingDue:
    due: datetime
    guessed_years: tuple[int, ...] = ()  # counted Mon–Fri less statutory days: no schedule

    @property
    def provisional_reason(self) -> str | None:
        if not self.guessed_years:
            return None
        years = "、".join(f"{y}年" for y in self.guessed_years)
        return f"暂按周一至周五（扣除法定节假日）计算，{years}调休安排未录入"


def add_working_days(start: datetime, days: int,
                     published: Mapping[int, PublishedYear] | None = None) -> WorkingDue:
    """End of the `days`-th working day after the (Beijing) day of `start`.

    '2 working days' from a message received Friday 10:00 ends Tuesday 24:00; received on
    a holiday, counting starts with the next working day. Returned as an aware datetime.
    """
    calendar = WorkCalendar(published or {})
    local_day = start.astimezone(CHINA_TZ).date()
    first, counted = local_day, 0
    while counted < days:
        local_day += timedelta(days=1)
        if calendar.is_working_day(local_day):
            counted += 1
    due = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=CHINA_TZ)
    return WorkingDue(due, tuple(calendar.unknown_years(first, local_day)))
