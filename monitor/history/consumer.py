"""The history consumer: reads the tracking change log (`index_log`, one entry per saved
event) through the consumer group 'history', writes the events' current state to SQL, then
acknowledges. The position reached is committed in SQL with the rows, so:
- a crash after the SQL commit and before the ack re-delivers entries whose events are
  already in at that version: they are skipped, nothing is counted twice;
- entries the log no longer holds (trimmed while the consumer was down, or Redis restarted
  empty) are noticed, and every event still in Redis is written again (a full resync)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog
from redis.exceptions import LockError
from sqlalchemy.exc import IntegrityError

from monitor.clock import Clock, sleep_or_stop
from monitor.history.metrics import HistoryMetrics
from monitor.history.writer import START, HistoryWriter, stream_key
from monitor.store.events import EventStore
from monitor.store.keys import Keys

log = structlog.get_logger("monitor.history")

GROUP = "history"
CONSUMER = "history"  # one name for every process: a restarted one takes the pending over
BATCH = 500
RESYNC_CHUNK = 500
IDLE_SECONDS = 2.0
# One process writes at a time: every process reads the group's pending entries under the one
# consumer name, so two writers would both load and write the same events. A holder that dies
# is replaced when the lease runs out.
LEASE_SECONDS = 30
EVERYTHING = (float("-inf"), float("inf"))


@dataclass
class Pass:
    entries: int = 0  # change-log entries read
    written: int = 0  # events written to SQL (newer than what it held)
    resynced: int = 0  # events written by a full resync


class HistoryConsumer:
    def __init__(self, redis: aioredis.Redis, keys: Keys, store: EventStore,
                 writer: HistoryWriter, batch: int = BATCH,
                 metrics: HistoryMetrics | None = None) -> None:
        self._redis = redis
        self._keys = keys
        self._store = store
        self._writer = writer
        self._batch = batch
        self._metrics = metrics or HistoryMetrics()
        self._ready = False
        # redis-py's lock: taking it, and renewing it only while the token is still ours, are
        # each one atomic call, so a holder that lost it can never renew another's lease.
        self._lease = redis.lock(keys.history_lease, timeout=LEASE_SECONDS, thread_local=False)
        # Tests set this to stop between the SQL commit and the ack (a crash there).
        self.before_ack = None

    async def run_once(self, still_mine: Callable[[], Awaitable[bool]] | None = None) -> Pass:
        """Catch up with everything logged so far; the counts of the pass. `still_mine`,
        asked after each batch, ends the pass when the history lease is no longer ours."""
        done = Pass()
        position = await asyncio.to_thread(self._writer.position)
        if await self._lost_entries(position):
            done.resynced = await self._resync()
            self._metrics.resyncs.inc()
            position = await asyncio.to_thread(self._writer.position)
        await self._ensure_group(position)
        while entries := await self._read():
            await self._apply(entries, done)
            if still_mine is not None and not await still_mine():
                break  # another process writes now: two would write the same rows
        self._metrics.written.inc(done.written + done.resynced)
        return done

    async def run(self, clock: Clock, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if not await self.holds_lease():
                    await sleep_or_stop(clock, IDLE_SECONDS, stop)
                    continue
                # The lease renewed at every batch: a backlog longer than the lease must not
                # let a second process take it and write the same entries beside us.
                done = await self.run_once(self.holds_lease)
                if done.written or done.resynced:
                    log.info("history_written", entries=done.entries, events=done.written,
                             resynced=done.resynced)
            except (OSError, aioredis.RedisError) as exc:
                self._ready = False  # Redis may come back empty: check the group again
                self._metrics.failures.labels("redis").inc()
                log.error("history_redis_failed", error=str(exc))
            except Exception as exc:  # the SQL side: keep the service up, retry later
                self._metrics.failures.labels("sql").inc()
                log.error("history_write_failed", error=str(exc).splitlines()[0])
            await sleep_or_stop(clock, IDLE_SECONDS, stop)

    async def holds_lease(self) -> bool:
        """Take or renew the history lease; False while another process holds it."""
        if self._lease.local.token is not None:
            try:
                await self._lease.reacquire()
                return True
            except LockError:  # it ran out and another took it, or Redis came back empty
                self._lease.local.token = None
        return await self._lease.acquire(blocking=False)

    async def _apply(self, entries: list[tuple[str, str]], done: Pass) -> None:
        position = await asyncio.to_thread(self._writer.position)
        fresh = [event_id for sid, event_id in entries
                 if stream_key(sid) > stream_key(position)]
        events = await self._store.load_many_with_items(dict.fromkeys(fresh))
        last = max((sid for sid, _ in entries), key=stream_key)
        done.entries += len(entries)
        done.written += await asyncio.to_thread(self._write, events, last)
        if self.before_ack is not None:
            self.before_ack()
        await self._redis.xack(self._keys.index_log, GROUP, *(sid for sid, _ in entries))

    def _write(self, events, last: str | None) -> int:
        try:
            return self._writer.apply(events, last)
        except IntegrityError:  # another process inserted one of them first: its turn now
            return self._writer.apply(events, last)

    async def _read(self) -> list[tuple[str, str]]:
        """Entries delivered before and never acknowledged (a crash), then new ones."""
        stream = self._keys.index_log
        for start in ("0", ">"):
            reply = await self._redis.xreadgroup(GROUP, CONSUMER, {stream: start},
                                                 count=self._batch)
            found = [(sid.decode(), fields) for _, batch in reply for sid, fields in batch]
            if trimmed := [sid for sid, fields in found if not fields]:
                # Pending entries the log trimmed meanwhile: nothing left to read in them.
                await self._redis.xack(stream, GROUP, *trimmed)
            entries = [(sid, fields[b"id"].decode()) for sid, fields in found if fields]
            if entries:
                return entries
            if trimmed:
                return await self._read()
        return []

    async def _ensure_group(self, position: str) -> None:
        if self._ready:
            return
        try:
            await self._redis.xgroup_create(self._keys.index_log, GROUP, id=position,
                                            mkstream=True)
        except aioredis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._ready = True

    async def _lost_entries(self, position: str) -> bool:
        """Whether the log may hold less than what came after `position`, so its entries
        alone cannot bring SQL up to date: no group yet (a new history beside events saved
        before it, or Redis restarted without its data), or the entry at `position` trimmed
        away with others after it."""
        stream = self._keys.index_log
        if not await self._group_exists(stream):
            self._ready = False
            return True
        if position == START:
            return False  # read from the log's start since the group was made
        if await self._redis.xrange(stream, min=position, max=position):
            return False
        first = await self._redis.xrange(stream, count=1)
        return not first or stream_key(first[0][0].decode()) > stream_key(position)

    async def _group_exists(self, stream: str) -> bool:
        try:
            groups = await self._redis.xinfo_groups(stream)
        except aioredis.ResponseError:  # no stream at all
            return False
        return any(_text(g["name"]) == GROUP for g in groups)

    async def _last_generated(self, stream: str) -> str | None:
        try:
            info = await self._redis.xinfo_stream(stream)
        except aioredis.ResponseError:
            return None
        return _text(info["last-generated-id"])

    async def _resync(self) -> int:
        """Every event Redis holds, written again; then the group starts after the log's
        current end."""
        stream = self._keys.index_log
        # Changes logged during the resync come after `end`: read again, harmlessly.
        end = await self._last_generated(stream) or START
        ids = [i.decode() for i in await self._redis.zrange(self._keys.events_by_first_seen,
                                                            0, -1)]
        written = 0
        for chunk in _chunks(ids, RESYNC_CHUNK):
            events = await self._store.load_many_with_items(chunk)
            written += await asyncio.to_thread(self._writer.apply, events, None)
        await asyncio.to_thread(self._writer.restart_at, end)
        await self._reset_group(stream, end)
        # A first start (nothing to copy) is routine; copying events means the log had lost
        # some (Redis restarted without its data, or the history is new beside old events).
        (log.warning if written else log.info)("history_resynced", events=written,
                                               position=end)
        return written

    async def _reset_group(self, stream: str, position: str) -> None:
        try:
            await self._redis.xgroup_setid(stream, GROUP, id=position)
        except aioredis.ResponseError:
            await self._redis.xgroup_create(stream, GROUP, id=position, mkstream=True)
        self._ready = True


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _chunks(ids: Sequence[str], size: int):
    for n in range(0, len(ids), size):
        yield ids[n:n + size]
