"""Recompute the service-state gauges from Redis when Prometheus scrapes.

Reading the state at scrape time keeps the wall current without a loop of its own; a
throttle keeps several dashboards scraping at once from re-reading every event each time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import redis.asyncio as aioredis
import structlog

from monitor.clock import Clock
from monitor.collect.health import silent
from monitor.config import Source
from monitor.store.sources import SourceStore
from monitor.store.streams import group_backlogs
from monitor.track.readmodel import ReadModel
from monitor.wall.metrics import DEADLINE_STATES, WallMetrics
from monitor.wall.snapshot import EventCounts, Labels, count_events, month_start

log = structlog.get_logger("monitor.wall")

MIN_SECONDS = 1.0  # between two reads of the whole state (real time: it is about load)
LOOKBACK = timedelta(days=31)  # a deadline due this month may belong to an older event


@dataclass
class WallRefresher:
    metrics: WallMetrics
    read: ReadModel
    sources: SourceStore
    feeds: Sequence[Source]
    redis: aioredis.Redis
    streams: dict[str, str]  # label → stream key
    clock: Clock
    labels: Labels
    _last: float = float("-inf")

    async def refresh(self) -> None:
        """Called before each scrape. A Redis failure, or an event that no longer reads
        (ValueError: pydantic's validation error), keeps the last values and is counted:
        the process metrics and counters still get scraped."""
        if time.monotonic() - self._last < MIN_SECONDS:
            return
        self._last = time.monotonic()
        try:
            await self._events()
            await self._sources()
            await self._streams()
        except (OSError, aioredis.RedisError, ValueError) as exc:
            self.metrics.refresh_errors.inc()
            log.error("wall_refresh_failed", error=str(exc))

    async def _events(self) -> None:
        now = self.clock.now()
        events = await self.read.glance_active_or_since(month_start(now) - LOOKBACK, now)
        counts = count_events(events, now, self.labels)
        self._set_events(counts)

    def _set_events(self, counts: EventCounts) -> None:
        m = self.metrics
        _replace(m.events_open, counts.open)
        _replace(m.events_open_by_region, counts.regions)
        for rule in self.labels.rules:  # known rules keep their zeros
            for state in DEADLINE_STATES:
                m.deadlines.labels(rule, state).set(counts.deadlines.get((rule, state), 0))
        for (rule, state), n in counts.deadlines.items():
            m.deadlines.labels(rule, state).set(n)
        for rule, ratio in counts.on_time.items():
            m.on_time.labels(rule).set(ratio)
        _replace(m.awaiting, counts.awaiting)
        m.next_due.set(counts.next_due)

    async def _sources(self) -> None:
        states = await self.sources.load_many(s.id for s in self.feeds)
        now = self.clock.now().timestamp()
        quiet = 0
        for source in self.feeds:
            state = states[source.id]
            self.metrics.source_failing.labels(source.id).set(int(state.failing))
            is_silent = silent(state, source.interval, now)
            self.metrics.source_silent.labels(source.id).set(int(is_silent))
            quiet += is_silent
        self.metrics.sources_silent.set(quiet)

    async def _streams(self) -> None:
        for label, stream in self.streams.items():
            for backlog in await group_backlogs(self.redis, stream):
                self.metrics.stream_lag.labels(label, backlog.group).set(backlog.lag)
                self.metrics.stream_pending.labels(label, backlog.group).set(backlog.pending)


def _replace(gauge, values: dict) -> None:
    """Set the gauge to exactly these children: a combination that vanished goes away."""
    gauge.clear()
    for labels, n in values.items():
        gauge.labels(*(labels if isinstance(labels, tuple) else (labels,))).set(n)
