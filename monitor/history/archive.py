"""Closed events leave Redis once the history holds them and they have been closed for the
configured period (MONITOR_ARCHIVE_AFTER), so Redis memory stays bounded by what is recent."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import redis.asyncio as aioredis
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from monitor.clock import Clock, sleep_or_stop
from monitor.history import tables
from monitor.history.metrics import HistoryMetrics
from monitor.history.rows import utc
from monitor.store.archive import EventEvictor

BATCH = 500
ARCHIVE_SECONDS = 300.0

log = structlog.get_logger("monitor.history")


class Archiver:
    def __init__(self, engine: Engine, evictor: EventEvictor, after_seconds: float,
                 metrics: HistoryMetrics | None = None) -> None:
        self._engine = engine
        self._metrics = metrics or HistoryMetrics()
        self._evictor = evictor
        self._after = timedelta(seconds=after_seconds)

    async def run_once(self, now: datetime) -> int:
        """Evict what is due at `now`; the number of events that left Redis."""
        total = 0
        while due := await asyncio.to_thread(self._due, now - self._after):
            gone = await self._evictor.evict(due)
            await asyncio.to_thread(self._mark, gone, now)
            total += len(gone)
            self._metrics.archived.inc(len(gone))
            if len(gone) < len(due):  # some changed meanwhile: the consumer writes them first
                break
        return total

    async def run(self, clock: Clock, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if evicted := await self.run_once(clock.now()):
                    log.info("events_archived", left_redis=evicted)
            except (OSError, aioredis.RedisError) as exc:
                self._metrics.failures.labels("redis").inc()
                log.error("archive_redis_failed", error=str(exc))
            except Exception as exc:  # the SQL side: retry at the next round
                self._metrics.failures.labels("sql").inc()
                log.error("archive_failed", error=str(exc).splitlines()[0])
            await sleep_or_stop(clock, ARCHIVE_SECONDS, stop)

    def _due(self, closed_before: datetime) -> list[tuple[str, int]]:
        t = tables.events
        query = (sa.select(t.c.id, t.c.version)
                 .where(t.c.closed_at.is_not(None), t.c.closed_at <= utc(closed_before),
                        t.c.evicted_at.is_(None))
                 .order_by(t.c.closed_at).limit(BATCH))
        with self._engine.connect() as conn:
            return [(row.id, row.version) for row in conn.execute(query)]

    def _mark(self, ids: list[str], now: datetime) -> None:
        if not ids:
            return
        t = tables.events
        with self._engine.begin() as conn:
            conn.execute(sa.update(t).where(t.c.id.in_(ids)).values(evicted_at=utc(now)))
