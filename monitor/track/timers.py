"""Deadline timers: due-soon and missed transitions fire on time even when no item arrives.

Each active event with a running deadline sits in a sorted set scored by its next boundary.
A runner claims due events (moving them a lease ahead, atomically, so one runner takes each),
re-runs the pure deadline clock at `now`, and saves; the save sets the next boundary. If the
runner dies mid-way the lease runs out and another fires it: evaluation at the same time
yields no new transition, so nothing fires twice, and nothing is lost.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
import structlog

from monitor.clock import Clock, sleep_or_stop
from monitor.store.events import Conflict, EventStore
from monitor.track.tracker import Tracker

log = structlog.get_logger("monitor.track.timers")

MAX_IDLE_SECONDS = 1.0  # look again at least this often: other processes add timers


class TimerRunner:
    def __init__(self, store: EventStore, tracker: Tracker, clock: Clock) -> None:
        self._store = store
        self._tracker = tracker
        self._clock = clock

    async def run_once(self) -> int:
        """Fire every due timer; return how many transitions were recorded."""
        fired = 0
        while due := await self._store.claim_timers(self._clock.now()):
            for event_id in due:
                fired += await self._fire(event_id)
        return fired

    async def _fire(self, event_id: str) -> int:
        for _ in range(5):
            event = await self._store.load(event_id)
            if event is None:
                return 0
            now = self._clock.now()
            before = len(event.history)
            change = self._tracker.finish(event, now, event.version)
            try:
                await self._store.save(change)
            except Conflict:
                continue
            for entry in change.event.history[before:]:
                log.info("deadline_transition", event_id=event_id, what=entry.what,
                         why=entry.why)
            return len(change.event.history) - before
        log.error("timer_not_applied", event_id=event_id, hint="event kept changing")
        return 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
                wait = await self._seconds_to_next()
            except (OSError, aioredis.RedisError) as exc:
                log.error("timer_pass_failed", error=str(exc), hint="retrying in 2s")
                wait = 2.0
            await sleep_or_stop(self._clock, wait, stop)

    async def _seconds_to_next(self) -> float:
        due = await self._store.next_timer()
        if due is None:
            return MAX_IDLE_SECONDS
        return min(MAX_IDLE_SECONDS, max(0.0, due - self._clock.now().timestamp()))
