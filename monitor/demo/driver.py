"""Drives the demo's simulated clock: publishes each scenario entry when the clock reaches
its time, and between entries jumps straight to the next moment the service has work
(a deadline timer, an alert coming due), so days of news run in seconds. After each move
the driver lets the service settle: it nudges the clock a second at a time (the stages
that sleep on the clock wake) until nothing is due, polling or unread."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from monitor.clock import FakeClock
from monitor.demo.scenarios import Entry
from monitor.demo.site import FeedSite
from monitor.store.events import EventStore
from monitor.store.keys import Keys
from monitor.store.sources import SourceStore

TICK_SECONDS = 1.0  # how far a nudge moves the clock while the service is busy
STEP_SECONDS = 10.0  # how far the clock moves while a published entry waits for its poll
QUIET_CHECKS = 3  # consecutive idle looks before the service counts as settled
MAX_NUDGES = 600


class Driver:
    def __init__(self, clock: FakeClock, redis: aioredis.Redis, keys: Keys, site: FeedSite,
                 feed_ids: list[str]) -> None:
        self.clock = clock
        self._redis = redis
        self._keys = keys
        self._site = site
        self._feed_ids = feed_ids
        self._sources = SourceStore(redis, keys)
        self._events = EventStore(redis, keys, retention_seconds=400 * 86400)
        self.published = 0
        self.moves = 0

    async def play(self, entries: list[Entry], until: datetime) -> None:
        """Publish `entries` at their times and run the service's own work up to `until`."""
        pending = deque(entries)
        while True:
            moment = min(t for t in (pending[0].published if pending else None,
                                     await self.next_work(), until) if t is not None)
            if moment > until:
                break
            if moment > self.clock.now():
                self.clock.set(moment)
                self.moves += 1
            while pending and pending[0].published <= self.clock.now():
                self._site.publish(pending.popleft())
                self.published += 1
            await self.collect_published()
            await self.settle()
            if not pending and self.clock.now() >= until:
                break

    async def collect_published(self) -> None:
        """Move the clock on in poll-sized steps until the collector has taken every entry
        published so far (each source is polled within its interval)."""
        for _ in range(60):
            if await self._redis.xlen(self._keys.items_stream) >= self.published:
                return
            self.clock.advance(STEP_SECONDS)
            await self.settle()

    async def settle(self) -> None:
        quiet = 0
        for _ in range(MAX_NUDGES):
            await asyncio.sleep(0.02)  # real time for the stages' HTTP and Redis round trips
            if await self.idle():
                quiet += 1
                if quiet >= QUIET_CHECKS:
                    return
            else:
                quiet = 0
                self.clock.advance(TICK_SECONDS)

    async def idle(self) -> bool:
        now = self.clock.now().timestamp()
        if any((await self._sources.lease_holders(self._feed_ids)).values()):
            return False
        due = await self._sources.next_due()
        if due is not None and due <= now:
            return False
        for stream in (self._keys.items_stream, self._keys.alerts_out, self._keys.index_log):
            if not await self._stream_read(stream):
                return False
        if await self._redis.zcount(self._keys.notify_outbox, "-inf", now):
            return False
        timer = await self._events.next_timer()
        return timer is None or timer > now

    async def next_work(self) -> datetime | None:
        """The next moment a timer, an alert or a reminder is due."""
        times = [await self._events.next_timer()]
        for key in (self._keys.notify_outbox, self._keys.notify_repeats):
            first = await self._redis.zrange(key, 0, 0, withscores=True)
            times.append(float(first[0][1]) if first else None)
        known = [t for t in times if t is not None]
        if not known:
            return None
        return datetime.fromtimestamp(max(min(known), self.clock.now().timestamp()),
                                      self.clock.now().tzinfo) + timedelta(seconds=0)

    async def _stream_read(self, stream: str) -> bool:
        """Every consumer group of `stream` has read and acknowledged everything."""
        try:
            groups = await self._redis.xinfo_groups(stream)
            last = (await self._redis.xinfo_stream(stream))["last-generated-id"]
        except ResponseError:  # no such stream yet
            return True
        for group in groups:
            if int(group.get("pending") or 0):
                return False
            if _text(group.get("last-delivered-id")) != _text(last):
                return False
        return True


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
