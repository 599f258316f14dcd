"""The automatic export: once a month has ended (from 01:00 on the 1st, Asia/Shanghai, on the
injected clock, so the history has caught up with the month's last changes), its report is
written to the exports directory in every format, once. A service that was down on the 1st
writes it when it starts."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy.engine import Engine

from monitor.clock import Clock, sleep_or_stop
from monitor.report.export import export, export_stem
from monitor.report.model import FORMATS
from monitor.report.period import Period, month_of
from monitor.track.workdays import CHINA_TZ

log = structlog.get_logger("monitor.report")

EXPORT_HOUR = 1  # local time on the 1st
CHECK_SECONDS = 600.0
START_DELAY_SECONDS = 60.0  # let the service settle (and catch up) before a catch-up export


class MonthlyExports:
    def __init__(self, engine: Engine, out_dir: Path) -> None:
        self._engine = engine
        self._out = out_dir

    def due(self, now: datetime) -> Period | None:
        """The month that has ended and has no export yet, if any."""
        local = now.astimezone(CHINA_TZ)
        month = month_of(local).previous()
        if local.day == 1 and local.hour < EXPORT_HOUR:
            return None  # the month has just ended: give the history an hour to catch up
        done = (self._out / export_stem(month)).with_suffix(".xlsx")
        return None if done.exists() else month

    async def run_once(self, now: datetime) -> list[Path]:
        month = self.due(now)
        if month is None:
            return []
        written: list[Path] = []
        # XLSX last: its presence marks the month as done.
        for fmt in sorted(FORMATS, key=lambda f: f == "xlsx"):
            _, paths = await asyncio.to_thread(export, self._engine, month, fmt, self._out,
                                               fmt == "xlsx")
            written += paths
        log.info("monthly_export_written", month=month.name, files=[str(p) for p in written])
        return written

    async def run(self, clock: Clock, stop: asyncio.Event) -> None:
        await sleep_or_stop(clock, START_DELAY_SECONDS, stop)
        while not stop.is_set():
            try:
                await self.run_once(clock.now())
            except Exception as exc:  # the history may be unreachable: try again later
                log.error("monthly_export_failed", error=str(exc).splitlines()[0])
            await sleep_or_stop(clock, CHECK_SECONDS, stop)
