"""Report periods: a month or a year in Asia/Shanghai, parsed from what an operator types."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from monitor.errors import MonitorError
from monitor.track.workdays import CHINA_TZ

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


class PeriodError(MonitorError):
    """A month or year an operator typed that cannot be read."""


@dataclass(frozen=True)
class Period:
    """[start, end) in Asia/Shanghai; `months` are the month periods it covers."""

    year: int
    month: int | None  # None: the whole year

    @property
    def name(self) -> str:
        return f"{self.year:04d}" if self.month is None else f"{self.year:04d}-{self.month:02d}"

    @cached_property
    def start(self) -> datetime:
        return datetime(self.year, self.month or 1, 1, tzinfo=CHINA_TZ)

    @cached_property
    def end(self) -> datetime:
        if self.month is None or self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=CHINA_TZ)
        return datetime(self.year, self.month + 1, 1, tzinfo=CHINA_TZ)

    def months(self) -> list[Period]:
        if self.month is not None:
            return [self]
        return [Period(self.year, m) for m in range(1, 13)]

    def months_of_year_so_far(self) -> list[Period]:
        """January up to this month: the month against the previous months of its year."""
        return [Period(self.year, m) for m in range(1, (self.month or 12) + 1)]

    def previous(self) -> Period:
        assert self.month is not None
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)


def parse_month(text: str) -> Period:
    match = _MONTH.match(text or "")
    if not match:
        raise PeriodError(f"month {text!r} is not a month: write it as YYYY-MM, e.g. 2026-11")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise PeriodError(f"month {text!r}: the month must be 01 to 12")
    _check_year(year, text)
    return Period(year, month)


def parse_year(text: str) -> Period:
    match = _YEAR.match(str(text or ""))
    if not match:
        raise PeriodError(f"year {text!r} is not a year: write it as YYYY, e.g. 2026")
    year = int(match.group(1))
    _check_year(year, text)
    return Period(year, None)


def _check_year(year: int, text: str) -> None:
    if not 2000 <= year <= 2100:
        raise PeriodError(f"{text!r}: the year must be between 2000 and 2100")


def month_of(when: datetime) -> Period:
    local = when.astimezone(CHINA_TZ)
    return Period(local.year, local.month)
