"""Alert intents from tracking → the notifier.

Tracking writes each intent into a Redis stream in the same atomic save as the event change
that caused it; this forwarder reads that stream in a consumer group and submits to the
notifier (durable, idempotent on the intent's key), then acknowledges. A crash in between
re-submits, which the notifier recognises: nothing is lost, nothing shown twice.

It also tells the notifier when reminders should stop: once an event owes nothing any more
(every missed deadline answered), or when it is no longer active.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
import structlog

from monitor.clock import Clock, sleep_or_stop
from monitor.domain.alerts import AlertIntent, AlertKind
from monitor.domain.events import DeadlineState
from monitor.notify.notifier import Notifier
from monitor.store import as_text
from monitor.store.events import EventStore
from monitor.store.items import ensure_groups, remove_idle_consumers
from monitor.store.keys import Keys

log = structlog.get_logger("monitor.notify.forward")

GROUP = "notify"
STALE_MS = 60_000


class AlertForwarder:
    def __init__(self, redis: aioredis.Redis, keys: Keys, store: EventStore, notifier: Notifier,
                 clock: Clock, name: str, stale_ms: int = STALE_MS,
                 on_intent: Callable[[AlertIntent], Awaitable[None]] | None = None) -> None:
        self._redis = redis
        self._stale_ms = stale_ms  # Redis measures idleness itself, in real milliseconds
        self._last_claim = float("-inf")
        self._stream = keys.alerts_out
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self.name = name
        self._on_intent = on_intent  # the wall's counts of opened, missed and answered

    async def start(self) -> None:
        await ensure_groups(self._redis, self._stream, [GROUP])

    async def run_once(self, block_ms: int | None = None) -> int:
        await self._take_over_stale()
        entries = await self._read("0", None) or await self._read(">", block_ms)
        for entry_id, fields in entries:
            intent = AlertIntent.model_validate_json(fields[b"intent"])
            await self._notifier.submit(intent)
            await self._maybe_resolve(intent)
            if self._on_intent is not None:
                await self._on_intent(intent)
            await self._redis.xack(self._stream, GROUP, entry_id)
        return len(entries)

    async def _take_over_stale(self) -> None:
        """Alerts a dead process read and never forwarded join our own pending ones (read
        first, above); looked for every 30 s, also while new alerts keep coming."""
        now = self._clock.now().timestamp()
        if now - self._last_claim < STALE_MS / 2000:
            return
        self._last_claim = now
        await self._redis.xautoclaim(self._stream, GROUP, self.name, min_idle_time=self._stale_ms,
                                     count=100, justid=True)
        await remove_idle_consumers(self._redis, self._stream, GROUP, self.name, self._stale_ms)

    async def _read(self, start: str, block_ms: int | None) -> list:
        reply = await self._redis.xreadgroup(GROUP, self.name, {self._stream: start}, count=100,
                                             block=block_ms)
        return [(as_text(eid), f) for _, messages in reply or [] for eid, f in messages if f]

    async def _maybe_resolve(self, intent: AlertIntent) -> None:
        if intent.kind is not AlertKind.RESPONSE_DETECTED or not intent.event_id:
            return
        event = await self._store.load(intent.event_id)
        if event is not None and not any(d.state is DeadlineState.MISSED
                                         for d in event.deadlines):
            await self._notifier.resolve(event.id)

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        while not stop.is_set():
            try:
                await self.run_once(block_ms=1000)
            except (OSError, aioredis.RedisError) as exc:
                log.error("alert_forward_failed", error=str(exc), hint="retrying in 2s")
                await sleep_or_stop(self._clock, 2.0, stop)
