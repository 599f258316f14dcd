"""The daily summary for the notifier: open events owing a response, and the deadlines met
and missed today. Built from the read model; the notifier calls it once a day."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.domain.alerts import AlertIntent, AlertKind
from monitor.domain.events import DeadlineState
from monitor.track.readmodel import ReadModel
from monitor.track.workdays import CHINA_TZ

_LOOKBACK = timedelta(days=30)  # events first seen this long ago can still settle today


def summary_source(read: ReadModel):
    """The daily summary: open events owing a response, met and missed today."""

    async def build(now: datetime) -> AlertIntent | None:
        rows = await read.open_by_time_left(now)
        day_start = now - _since_local_midnight(now)
        settled_today = {"met": 0, "missed": 0}
        for event in await read.in_range(now - _LOOKBACK, now):
            for d in event.deadlines:
                when = d.met_at if d.state in (DeadlineState.MET, DeadlineState.MET_LATE) \
                    else d.due
                if when is None or when < day_start or when > now:
                    continue
                if d.state in (DeadlineState.MET, DeadlineState.MET_LATE):
                    settled_today["met"] += 1
                elif d.state is DeadlineState.MISSED:
                    settled_today["missed"] += 1
        lines = tuple(f"{r.event.title[:30]}（{r.event.region or '-'}）"
                      f"{_left(r.seconds_left)} {r.rule}" for r in rows[:5])
        return AlertIntent(key="daily_summary", kind=AlertKind.DAILY_SUMMARY, at=now,
                           title="今日舆情回应情况",
                           summary={"open": len(rows), "overdue": sum(r.seconds_left < 0
                                                                      for r in rows),
                                    "met_today": settled_today["met"],
                                    "missed_today": settled_today["missed"]},
                           summary_lines=lines)

    return build


def _since_local_midnight(now: datetime) -> timedelta:
    local = now.astimezone(CHINA_TZ)
    return timedelta(hours=local.hour, minutes=local.minute, seconds=local.second,
                     microseconds=local.microsecond)


def _left(seconds: float) -> str:
    hours = abs(seconds) / 3600
    return f"超期{hours:.1f}小时" if seconds < 0 else f"剩余{hours:.1f}小时"

